// Package cli is the operators' command line for a DCT gateway: publish a
// file or a whole directory (with a progress bar), list objects, show a
// manifest, fetch content, purge versions and show the authenticated
// identity (whoami). Reads go to the gateway's public listener (--gateway,
// DCT_GATEWAY). Publish and purge go to its admin listener (--admin,
// DCT_ADMIN) over mutual TLS, as a publisher of the gateway's organisation:
// the identity's MSP directory (--msp-dir) or enrollment certificate and
// key (--cert, --key), and the CA of the gateway's TLS certificate
// (--cacert); each also reads DCT_ADMIN_<FLAG>. The audit commands (dct
// audit ...) read histories, payments, accounts, receipt bundles and
// manifests through the admin listener with an auditor's identity, verify
// a receipt bundle offline, check served bytes against the ledger and
// recompute an epoch's SLA scores (verify-sla); dct sla ... reads the
// scores, breakdowns, history and attestations.
package cli
