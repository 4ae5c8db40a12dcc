// Package receipts is the gateway's proof-of-delivery bookkeeping (issue 9):
// it issues a signed records.Receipt for every shard a node delivered and
// the gateway verified, appends it to a durable write-ahead log (segment
// files per epoch, length+CRC framed records, group commit), and per epoch
// builds the batch the chaincode pays from: the RFC 6962 Merkle root over
// the receipts' LeafData in log order, the totals per node and publisher
// organisation and, once the commit transaction id is known, the sampled
// leaves with their inclusion proofs. The submitter keeps its progress in
// the log's directory, so a gateway killed at any point resumes without
// losing or double-submitting a batch. VerifyReceipt checks one receipt
// offline, for auditors.
package receipts
