package mesh

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// stdLogger returns a *log.Logger for serf and memberlist that forwards each
// line to l: "[DEBUG]", "[INFO]" and "[TRACE]" lines at Debug (membership
// changes are logged by the mesh itself at Info), "[WARN]" and "[ERR]" at
// Warn (memberlist reports every unanswered probe of a failing peer as an
// error, which is the mesh working, not failing).
func stdLogger(l *slog.Logger) *log.Logger {
	return log.New(logWriter{l}, "", 0)
}

type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	lvl, lib, msg := parseLine(string(p))
	if w.log.Enabled(context.Background(), lvl) {
		if lib != "" {
			w.log.Log(context.Background(), lvl, msg, "lib", lib)
		} else {
			w.log.Log(context.Background(), lvl, msg)
		}
	}
	return len(p), nil
}

// parseLine splits "[LEVEL] lib: message".
func parseLine(s string) (slog.Level, string, string) {
	s = strings.TrimSpace(s)
	lvl := slog.LevelDebug
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			switch strings.ToUpper(s[1:i]) {
			case "WARN", "WARNING", "ERR", "ERROR":
				lvl = slog.LevelWarn
			}
			s = strings.TrimSpace(s[i+1:])
		}
	}
	for _, lib := range []string{"memberlist", "serf"} {
		if rest, ok := strings.CutPrefix(s, lib+": "); ok {
			return lvl, lib, rest
		}
	}
	return lvl, "", s
}
