// Package probe answers the one question a container healthcheck asks —
// does this endpoint serve? — without a shell or curl in the image: HTTP
// GETs a URL and wants 200, TCP wants a connection accepted. The images of
// the compose consortium are FROM scratch, so their healthchecks run
// dct-probe (peers, orderers, the chaincode server) or the services' own
// health subcommands, which use this package.
package probe
