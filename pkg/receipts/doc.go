// Package receipts is the gateway's proof-of-delivery bookkeeping (issue 9):
// it issues a records.Receipt for every shard a node delivered and the
// gateway verified, appends it to a durable write-ahead log (segment files
// per epoch, length+CRC framed records, group commit) and signs each group
// commit once: a records.Seal over the RFC 6962 root of the group's
// receipts (at most records.MaxGroupReceipts), written with them in the
// same fsynced write. A receipt counts once its group's seal is durable;
// a group without its seal is a torn tail, cut on open. Per epoch it
// builds the batch the chaincode pays from: the RFC 6962 Merkle root over
// the receipts' LeafData in log order, the totals per node and publisher
// organisation and, once the commit transaction id is known, the sampled
// leaves with their seals, group proofs and batch inclusion proofs. The
// submitter keeps its progress in the log's directory, so a gateway killed
// at any point resumes without losing or double-submitting a batch.
// VerifyReceipt checks one receipt offline, for auditors; ReadDir reads a
// log with every receipt's seal and group proof.
package receipts
