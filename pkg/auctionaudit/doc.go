// Package auctionaudit recomputes an auction's clearing offline, as an
// auditor does (dct audit verify-auction): from the auction record, its
// reveals and the inputs auction:Clear recorded (each revealed bidder's
// node and SLA score), with the chaincode's own rules
// (records.ClearAuction), and compares the outcome with the stored
// awards, prices and contracts. The recorded scores are checked against
// the ledger's history of each node's score: the one in force at the
// clearing is the last breakdown whose transaction timestamp is not after
// the clearing transaction's.
package auctionaudit
