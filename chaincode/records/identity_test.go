package records

import (
	"errors"
	"testing"
)

func TestOrgSlug(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Org1MSP", "org1"}, {"BankAMSP", "banka"}, {"bank-a.msp", "bank-a"}, {"MSP", "msp"},
		{"Org_2", "org-2"}, {"ACME.Bank MSP", "acme-bank"}, {"x", "x"},
	} {
		if got := OrgSlug(tc.in); got != tc.want {
			t.Errorf("OrgSlug(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		id, msp string
		ok      bool
	}{
		{"agent0-org1", "Org1MSP", true}, {"branch-17-banka", "BankAMSP", true},
		{"agent0-org1", "Org2MSP", false}, {"org1", "Org1MSP", false}, {"-org1", "Org1MSP", false},
		{"agent0-org11", "Org1MSP", false},
	} {
		err := CheckNodeNamespace(tc.id, tc.msp)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrForbidden)) {
			t.Errorf("CheckNodeNamespace(%q, %q) = %v, want ok=%v", tc.id, tc.msp, err, tc.ok)
		}
	}
}
