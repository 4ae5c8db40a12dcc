package records

// Payout is a placeholder of the token contract's payout record, so that
// the delivery contract builds on its own. It is deleted when the token
// branch (which defines the real records.Payout) is merged.
type Payout struct {
	Ref    string `json:"ref"`
	Payer  string `json:"payer"`
	Payee  string `json:"payee"`
	Bytes  int64  `json:"bytes"`
	Amount int64  `json:"amount"`
	Status string `json:"status"`
}
