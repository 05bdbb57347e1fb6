package store

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// MigrateDownToForTest rolls the schema back to version with the embedded
// migrations' Down sections, so a test can apply a migration again (Migrate)
// whatever migrations came after it.
func (s *Store) MigrateDownToForTest(ctx context.Context, version int64) error {
	sub, err := fs.Sub(migrationFS, "migrations/"+string(s.engine))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(s.d.goose, s.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
