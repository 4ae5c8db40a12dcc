package fakes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// Identity is a fake cid.ClientIdentity with a configurable MSP ID and
// certificate.
type Identity struct {
	// MSPID is returned by GetMSPID.
	MSPID string
	// Cert is returned by GetX509Certificate (nil: no certificate).
	Cert *x509.Certificate
	// Err, when set, is returned by every method.
	Err error
}

var _ cid.ClientIdentity = (*Identity)(nil)

// GetID implements cid.ClientIdentity.
func (i *Identity) GetID() (string, error) {
	if i.Err != nil {
		return "", i.Err
	}
	return "x509::CN=user@" + i.MSPID, nil
}

// GetMSPID implements cid.ClientIdentity.
func (i *Identity) GetMSPID() (string, error) {
	if i.Err != nil {
		return "", i.Err
	}
	return i.MSPID, nil
}

// GetAttributeValue implements cid.ClientIdentity; the fake has no
// attributes.
func (i *Identity) GetAttributeValue(string) (string, bool, error) {
	return "", false, i.Err
}

// AssertAttributeValue implements cid.ClientIdentity; the fake has no
// attributes.
func (i *Identity) AssertAttributeValue(name, _ string) error {
	if i.Err != nil {
		return i.Err
	}
	return errors.New("attribute '" + name + "' was not found")
}

// GetX509Certificate implements cid.ClientIdentity.
func (i *Identity) GetX509Certificate() (*x509.Certificate, error) {
	if i.Err != nil {
		return nil, i.Err
	}
	return i.Cert, nil
}

// NewCert returns a self-signed certificate of a member of mspID named cn
// with the organisational units ous (Fabric NodeOUs: "admin", "client",
// "peer"), and its PEM encoding.
func NewCert(mspID, cn string, ous ...string) (*x509.Certificate, string, error) {
	cert, p, _, err := NewCertKey(mspID, cn, ous...)
	return cert, p, err
}

// NewCertKey is NewCert that also returns the certificate's private key
// (ECDSA P-256), to sign as the member.
func NewCertKey(mspID, cn string, ous ...string) (*x509.Certificate, string, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{mspID}, OrganizationalUnit: ous},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", nil, err
	}
	return cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key, nil
}

// Context is a fake transaction context, satisfying
// contractapi.TransactionContextInterface.
type Context struct {
	Stub     *Stub
	Identity cid.ClientIdentity
}

// GetStub returns the stub.
func (c *Context) GetStub() shim.ChaincodeStubInterface { return c.Stub }

// GetClientIdentity returns the identity.
func (c *Context) GetClientIdentity() cid.ClientIdentity { return c.Identity }

// Commit commits the transaction's writes (see Stub.Commit).
func (c *Context) Commit() { c.Stub.Commit() }

// Creator returns what a peer's stub returns from GetCreator for an admin
// of mspID: a serialized msp.SerializedIdentity holding a freshly generated
// self-signed X.509 certificate with the NodeOU "admin". cid.New accepts it.
func Creator(mspID string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "admin@" + mspID, Organization: []string{mspID}, OrganizationalUnit: []string{"admin"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: pemCert})
}
