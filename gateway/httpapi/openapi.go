package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc is the OpenAPI 3 document of both listeners, hand-written
// (openapi.json); TestOpenAPIMatchesRouters checks it against the routers.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the gateway's OpenAPI 3 document (JSON).
func OpenAPI() []byte { return openAPIDoc }

func (h *handler) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDoc)
}
