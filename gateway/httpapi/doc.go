// Package httpapi is the gateway's HTTP interface (gin):
//
//	PUT    /v1/objects/{name}   publish (streams the body; Content-Length required)
//	GET    /v1/objects          list objects
//	GET    /v1/objects/{name}   object head and versions (?version=V for one manifest)
//	DELETE /v1/objects/{name}   purge ?version=V (default latest) &reason=R
//	GET    /cdn/{name}          serve the latest version
//	GET    /cdn/{name}@{ver}    serve a version (immutable)
//	GET    /healthz             liveness and readiness
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
