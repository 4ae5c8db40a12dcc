package records

import (
	"fmt"
	"strconv"
)

// The epoch setting. The length of an epoch is a ledger setting so that
// a network can run short epochs (a test network scoring SLAs in
// seconds) without a chaincode change:
//
//   - unset, epochs are DefaultEpochSeconds long;
//   - an admin of any member organisation may set it (delivery:SetEpochLength)
//     to MinEpochSeconds..MaxEpochSeconds, once: a second set is refused,
//     even with the same value;
//   - and only while no record that names an epoch or a contract exists
//     (EpochDependentKeyTypes: delivery batches and node-epoch counters,
//     SLA attestations, scored epochs and scores, auctions and storage
//     contracts): changing the length afterwards would move what those
//     records mean. Every endorser evaluates the rule on its own state
//     with the same range reads, and Fabric's validation refuses the
//     transaction if a record appeared in the meantime.
//
// Clients (gateways, edge agents) read the length with delivery:Epoch at
// start-up, never a constant.
const (
	MinEpochSeconds int64 = 1
	MaxEpochSeconds int64 = 3600
)

// EpochSettingKeyType is the composite key object type of the epoch
// setting (no attributes: one record per channel).
const EpochSettingKeyType = "dct.setting.epoch"

// EpochDependentKeyTypes are the record types whose existence freezes the
// epoch setting.
var EpochDependentKeyTypes = []string{
	BatchKeyType, NodeEpochKeyType, SLAAttestationKeyType, SLAEpochKeyType, SLAScoreKeyType,
	AuctionKeyType, ContractKeyType,
}

// EpochSetting is the ledger's epoch length, stored under
// EpochSettingKeyType when an admin set it.
type EpochSetting struct {
	// Seconds is the length of an epoch.
	Seconds int64 `json:"seconds"`
	// SetBy is the MSP ID, SetByCert the certificate hash of the admin that
	// set it; empty when the setting is the default (never set).
	SetBy     string `json:"setBy,omitempty" metadata:",optional"`
	SetByCert string `json:"setByCert,omitempty" metadata:",optional"`
	SetAt     string `json:"setAt,omitempty" metadata:",optional"`
	TxID      string `json:"txId,omitempty" metadata:",optional"`
}

// DefaultEpochSetting is the setting of a ledger where none was set.
func DefaultEpochSetting() *EpochSetting { return &EpochSetting{Seconds: DefaultEpochSeconds} }

// ValidateEpochSeconds checks an epoch length.
func ValidateEpochSeconds(seconds int64) error {
	if seconds < MinEpochSeconds || seconds > MaxEpochSeconds {
		return invalidf("epoch length must be %d..%d seconds, got %d", MinEpochSeconds, MaxEpochSeconds, seconds)
	}
	return nil
}

// ParseEpochSeconds parses a decimal epoch length and checks it.
func ParseEpochSeconds(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalidf("epoch length %s is not a whole number of seconds", quote(s))
	}
	return n, ValidateEpochSeconds(n)
}

// Validate checks a stored setting.
func (s *EpochSetting) Validate() error {
	if err := ValidateEpochSeconds(s.Seconds); err != nil {
		return err
	}
	if s.SetBy != "" {
		if err := ValidateMSPID("setBy", s.SetBy); err != nil {
			return err
		}
	}
	return nil
}

// String is "epochs of 60 s (default)" or "epochs of 5 s (set by
// Org1MSP in tx …)".
func (s *EpochSetting) String() string {
	if s.SetBy == "" {
		return fmt.Sprintf("epochs of %d s (default)", s.Seconds)
	}
	return fmt.Sprintf("epochs of %d s (set by %s in tx %s)", s.Seconds, s.SetBy, s.TxID)
}
