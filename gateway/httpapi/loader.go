package httpapi

import (
	"crypto/sha256"
	"crypto/sha512"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/dct-network/dct/pkg/api"
	"github.com/gin-gonic/gin"
)

// loaderJS is the frontend loader every gateway serves at api.LoaderPath.
//
//go:embed loader/dct-loader.js
var loaderJS []byte

var (
	loaderIntegrity = func() string {
		sum := sha512.Sum384(loaderJS)
		return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
	}()
	loaderETag = func() string {
		sum := sha256.Sum256(loaderJS)
		return `"` + hex.EncodeToString(sum[:]) + `"`
	}()
)

// LoaderScript returns the frontend loader's bytes (a copy).
func LoaderScript() []byte { return append([]byte(nil), loaderJS...) }

// LoaderIntegrity is the SRI value (sha384) of the frontend loader this
// gateway serves; it changes only with the gateway's release.
func LoaderIntegrity() string { return loaderIntegrity }

// loaderMaxAge is the Cache-Control max-age of the loader: its bytes change
// only with a gateway release, and pages pin them with SRI.
const loaderMaxAge = 300

func (h *handler) loader(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("ETag", loaderETag)
	hd.Set("Cache-Control", "public, max-age="+strconv.Itoa(loaderMaxAge))
	hd.Set("X-Content-Type-Options", "nosniff")
	if inm := c.GetHeader("If-None-Match"); inm != "" && etagMatches(inm, loaderETag) {
		c.Status(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(loaderJS)))
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", loaderJS)
}

func (h *handler) loaderInfo(c *gin.Context) {
	c.JSON(http.StatusOK, api.LoaderResponse{URL: api.LoaderPath, Integrity: loaderIntegrity, ETag: loaderETag, Size: len(loaderJS)})
}

func (h *handler) gateways(c *gin.Context) {
	out := api.GatewaysResponse{Gateways: []string{}}
	if h.cfg.Gateways != nil {
		out.Self, out.Gateways = h.cfg.Gateways()
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}
