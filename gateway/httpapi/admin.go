package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/gin-gonic/gin"
)

// AdminConfig tunes the admin API: the writes, for authenticated
// publishers of the gateway's organisation.
type AdminConfig struct {
	// Config holds the timeouts (RequestTimeout, PublishTimeout).
	Config
	// MSPID is the organisation the gateway acts for: only its publishers
	// may publish and purge here.
	MSPID string
	// Auth authenticates callers by their TLS client certificate and looks
	// their roles up in the ledger's registry.
	Auth *memberauth.Authenticator
	// Rate and Burst limit each identity (MSP id + certificate hash):
	// Rate requests a second, Burst at once (Rate <= 0: no limit).
	Rate  float64
	Burst int
	// Now replaces time.Now for the rate limits (tests).
	Now func() time.Time
	// Audit is the ledger's audit view for the /v1/audit endpoints (nil:
	// they answer 404); Receipts serves receipt bundles from this
	// gateway's log (nil: the gateway keeps none).
	Audit    AuditLedger
	Receipts ReceiptBundles
	// SLA is the ledger's SLA view for /v1/audit/sla (nil: 404).
	SLA SLALedger
	// Auctions is the ledger's auction view for /v1/audit/auctions (nil:
	// 404).
	Auctions AuctionLedger
}

// identityKey is where the admin API keeps the caller in the gin context.
const identityKey = "dct.identity"

// NewAdmin returns the admin listener's handler:
//
//	PUT    /v1/objects/{name}   publish, for a publisher of the gateway's organisation
//	DELETE /v1/objects/{name}   purge (?mode=soft: soft purge), likewise
//	POST   /v1/purge            purge by surrogate key (hard or soft), likewise
//	GET    /v1/whoami           the caller as authenticated (any member)
//	GET    /v1/audit/...        the auditor's view (see audit; the chaincode decides)
//
// Every request must come over TLS with a member's enrollment certificate
// (401 UNAUTHENTICATED otherwise), within the caller's rate (429
// RATE_LIMITED, with Retry-After); writes need the publisher role in the
// gateway's organisation (403 PERMISSION_DENIED).
func NewAdmin(svc *content.Service, cfg AdminConfig, log *slog.Logger) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	h := &handler{svc: svc, cfg: cfg.Config, log: log}
	a := &admin{handler: h, cfg: cfg, limit: newLimiter(cfg.Rate, cfg.Burst, cfg.Now)}
	if cfg.Metrics != nil {
		r.Use(h.instrument)
	}
	r.Use(h.requestID, operator, h.recover, h.timeout, a.authenticate)
	r.GET("/v1/whoami", a.whoami)
	r.PUT("/v1/objects/*name", a.requirePublisher, a.publish)
	r.DELETE("/v1/objects/*name", a.requirePublisher, a.purge)
	r.POST(api.PurgePath, a.requirePublisher, a.purgeByKey)
	(&audit{admin: a, ledger: cfg.Audit, receipts: cfg.Receipts, sla: cfg.SLA, auctions: cfg.Auctions}).routes(r)
	r.NoRoute(func(c *gin.Context) {
		writeError(c, fmt.Errorf("%w: no such endpoint on the admin listener: %s (it serves PUT and DELETE /v1/objects/{name}, POST /v1/purge, GET /v1/whoami and GET /v1/audit/...; reads are on the public listener)",
			content.ErrNotFound, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, fmt.Errorf("%w: %s is not allowed on %s", errMethodNotAllowed, c.Request.Method, c.Request.URL.Path))
	})
	return r
}

// operator marks a request of the admin listener: its errors carry the
// whole message (see anonymous).
func operator(c *gin.Context) { c.Set(operatorKey, true) }

type admin struct {
	*handler
	cfg   AdminConfig
	limit *limiter
}

// authenticate verifies the caller's client certificate, applies its rate
// limit and looks its roles up.
func (a *admin) authenticate(c *gin.Context) {
	if c.Request.TLS == nil {
		writeError(c, fmt.Errorf("%w: the admin API needs TLS with a member's client certificate", memberauth.ErrUnauthenticated))
		return
	}
	m, err := a.cfg.Auth.Verifier().Verify(c.Request.TLS.PeerCertificates)
	if err != nil {
		writeError(c, err)
		return
	}
	if ok, wait := a.limit.allow(m.MSPID + "/" + m.CertHash); !ok {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(c, fmt.Errorf("%w: %s made more than %g requests a second (burst %d); retry in %s",
			errRateLimited, m, a.cfg.Rate, max(a.cfg.Burst, 1), wait.Round(time.Millisecond)))
		return
	}
	id, err := a.cfg.Auth.Roles(c.Request.Context(), m)
	if err != nil {
		writeError(c, fmt.Errorf("%w: %w", content.ErrLedger, err))
		return
	}
	c.Set(identityKey, id)
	c.Next()
}

func caller(c *gin.Context) memberauth.Identity {
	id, _ := c.Get(identityKey)
	v, _ := id.(memberauth.Identity)
	return v
}

// requirePublisher lets only publishers of the gateway's organisation
// write.
func (a *admin) requirePublisher(c *gin.Context) {
	id := caller(c)
	switch {
	case !id.Has(records.RolePublisher):
		roles := "none"
		if len(id.Roles) > 0 {
			roles = fmt.Sprint(id.Roles)
		}
		writeError(c, fmt.Errorf("%w: %s is not a publisher (roles: %s); an admin of %s grants the role with identity:Grant",
			content.ErrForbidden, id.Member, roles, id.MSPID))
	case id.MSPID != a.cfg.MSPID:
		writeError(c, fmt.Errorf("%w: %s publishes for %s, and this gateway acts for %s: use a gateway of %s",
			content.ErrForbidden, id.Member, id.MSPID, a.cfg.MSPID, id.MSPID))
	default:
		c.Next()
	}
}

func (a *admin) whoami(c *gin.Context) {
	id := caller(c)
	c.JSON(http.StatusOK, api.WhoamiResponse{MSPID: id.MSPID, CertHash: id.CertHash, Subject: id.Subject,
		Roles: slices.Clone(id.Roles), Gateway: a.cfg.MSPID})
}

// publish is the publish handler for the authenticated publisher: the
// manifest names it (PublishedBy).
func (a *admin) publish(c *gin.Context) {
	id := caller(c)
	c.Request = c.Request.WithContext(content.WithPublisher(c.Request.Context(), id.CertHash))
	a.handler.publish(c)
}

// purge is the purge handler for the authenticated publisher. The ledger
// records the purging organisation; the gateway logs the identity.
func (a *admin) purge(c *gin.Context) {
	id := caller(c)
	a.log.Info("purge requested", "object", objectName(c, "name"), "version", c.Query("version"), "by", id.Member.String(), "certHash", id.CertHash)
	a.handler.purge(c)
}

// maxPurgeBody bounds the JSON body of POST /v1/purge.
const maxPurgeBody = 4096

// purgeByKey is POST /v1/purge for the authenticated publisher: a
// records.PurgeRequest as JSON (a surrogate key, or a name for a soft
// purge; the mode; the reason).
func (a *admin) purgeByKey(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxPurgeBody+1))
	if err != nil {
		writeError(c, fmt.Errorf("%w: reading the purge request: %w", content.ErrInvalid, err))
		return
	}
	if len(body) > maxPurgeBody {
		writeError(c, fmt.Errorf("%w: the purge request exceeds %d bytes", content.ErrInvalid, maxPurgeBody))
		return
	}
	req, err := records.DecodePurgeRequest(body)
	if err != nil {
		writeError(c, fmt.Errorf("%w: %w", content.ErrInvalid, err))
		return
	}
	id := caller(c)
	a.log.Info("purge by request", "request", req.String(), "by", id.Member.String(), "certHash", id.CertHash)
	a.handler.purgeBy(c, *req)
}
