// Package sla is the service side of the SLA scores (issue 11): what
// gateways and edge agents observe of the nodes, aggregated per epoch in
// bounded memory (Aggregator), submitted once per epoch as one signed
// sla:Attest transaction of the submitter's ledger identity (Submitter,
// which on gateways also asks the chaincode to score the epochs that have
// settled), and the scores read back for routing and placement (Table:
// reread on every dct.sla event by Watch, periodically by Run while the
// events are not followed). The auditor's recomputation of an epoch is
// package slaaudit.
//
// Memory is bounded whatever the traffic: an Aggregator keeps at most
// records.SLAAttestEpochs+1 epochs of at most records.MaxSLAObservations
// nodes each, every node a fixed set of counters and a latency histogram
// of fixed buckets (the percentiles reported are bucket upper bounds).
package sla
