// Command ferretdb-sqlite runs FerretDB 1.x (MongoDB wire protocol, SQLite backend) through its
// embeddable package. Building FerretDB's own cmd/ferretdb from the module proxy panics at start
// (its build/version/version.txt is generated in its repository and absent from the module zip);
// the embeddable package skips that check because the main module is ours.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI: an existing directory, ending with / (the sqlite handler)")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL; when set, the postgresql handler is used instead of sqlite")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	}
	backend := *sqliteURL
	if *postgresqlURL != "" {
		config.Handler, config.PostgreSQLURL, config.SQLiteURL = "postgresql", *postgresqlURL, ""
		backend = "postgresql"
	}
	db, err := ferretdb.New(config)
	if err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger.Warn("listening", "addr", *listen, "backend", backend)
	if err := db.Run(ctx); err != nil && ctx.Err() == nil {
		logger.Error("stopped", "error", err)
		os.Exit(1)
	}
}
