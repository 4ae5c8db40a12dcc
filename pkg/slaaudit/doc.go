// Package slaaudit is the auditor's check of the SLA scores (issue 11):
// CollectEvidence reads what the ledger holds of a scored epoch (its
// scoring record, its attestations, each observed node's owner and
// breakdown history) from any reader of it (*ledger.Client, or a
// gateway's admin listener through gatewayclient), and VerifyEpoch
// recomputes offline every node's score of the epoch with the chaincode's
// own formula code (chaincode/records) and reports each stored score as
// matching or not. It depends on the records only, so the dct command line
// (dct audit verify-sla) links no Fabric client.
package slaaudit
