package app

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLogger routes go-redis's own messages (dial failures, pool notices)
// into frontdesk's structured log instead of plain lines on stderr, so log
// shippers that expect JSON keep parsing.
type redisLogger struct{ logger *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
