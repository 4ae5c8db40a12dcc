package contract

import "github.com/dct-network/dct/chaincode/records"

// payDelivery is a placeholder of the token contract's payment of
// delivered bytes (payer: the publisher organisation, payee: the node's
// owner organisation; ref names the batch total). It pays nothing and
// writes nothing. This file is deleted when the token branch, which
// defines the real payDelivery, is merged.
func payDelivery(ctx txContext, payerMSP, payeeMSP string, bytes int64, ref string) (*records.Payout, error) {
	_ = ctx
	return &records.Payout{Ref: ref, Payer: payerMSP, Payee: payeeMSP, Bytes: bytes, Status: "placeholder"}, nil
}
