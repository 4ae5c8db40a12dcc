// Package httpapi is the gateway's HTTP interface (gin):
//
//	GET    /v1/objects          list objects
//	GET    /v1/objects/{name}   object head and versions (?version=V for one manifest)
//	GET    /cdn/{name}          serve the latest version
//	GET    /cdn/{name}@{ver}    serve a version (immutable)
//	GET    /healthz             liveness and readiness
//	GET    /v1/mesh             the mesh, fetch counters and repairs
//	GET    /v1/gateways         the consortium's gateways this one knows (public base URLs)
//	GET    /dct-loader.js       the frontend loader (loader/dct-loader.js, embedded)
//	GET    /v1/loader           the loader's path and SRI integrity
//
// Every answer of the public listener carries the CORS headers
// (Config.AllowOrigin): its content is public, and the frontend loader of
// a page served by one gateway probes and reads the others.
//
// New serves the public listener above, where PUT and DELETE answer 405.
// NewAdmin serves the writes on the separate admin listener (HTTPS with
// member client certificates, see pkg/memberauth):
//
//	PUT    /v1/objects/{name}   publish (streams the body; Content-Length required)
//	DELETE /v1/objects/{name}   purge ?version=V (default latest) &reason=R
//	GET    /v1/whoami           the authenticated caller and its roles
//	GET    /v1/audit/...        the auditor's view (audit.go) and the SLA view,
//	                            /v1/audit/sla/... (sla.go) and auction view,
//	                            /v1/audit/auctions/... (auctionview.go), for any member
//
// Its callers must be publishers of the gateway's organisation (401
// without a member certificate, 403 otherwise), each identity within its
// token-bucket rate (429 with Retry-After). The publisher is named in the
// manifest (content.WithPublisher).
//
// Serving follows what a portal frontend expects of a CDN: strong ETag from
// the content hash, If-None-Match → 304, Range/If-Range → 206 or 416,
// Content-Type, Content-Length, Cache-Control immutable on versioned URLs,
// CORS headers so that <script integrity crossorigin> works, and HEAD.
// The JSON answers and error codes are the types of pkg/api, which clients
// share without linking this package. Errors are JSON
// {"error":{"code":…,"message":…}}; the mapping from errors to HTTP
// statuses and codes is statusOf in errors.go and nowhere else.
package httpapi
