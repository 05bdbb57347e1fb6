package store

import "context"

// ExecRawForTest runs a raw statement ($N placeholders) so tests can tamper with
// rows the way an attacker with database access would.
func (s *Store) ExecRawForTest(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
