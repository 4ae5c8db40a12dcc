// Command dct-chaincode runs the DCT chaincode as an external service that
// the Fabric peer connects to (chaincode as a service), or, started by a
// peer's builder from a standard Go package, as a client that dials the
// peer. It is configured from the environment; see package server for the
// variables and how the mode is chosen.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/dct-network/dct/chaincode/contract"
	"github.com/dct-network/dct/chaincode/server"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

func main() {
	os.Exit(run())
}

func run() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if server.ClientMode(os.Getenv) {
		return runClient(log)
	}

	cfg, err := server.FromEnv(os.Getenv).ReadIDFile(os.ReadFile)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}
	cc, err := contract.NewChaincode(contract.WithLogger(log))
	if err != nil {
		log.Error("cannot build the chaincode", "err", err)
		return 1
	}
	reg := server.NewRegistry()
	srv, err := server.New(cfg, server.NewMetrics(reg).Instrument(cc))
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var started atomic.Bool
	opsAddr, err := server.ServeOps(ctx, os.Getenv(server.EnvOpsListen), server.OpsHandler(reg, func() error {
		if !started.Load() {
			return errors.New("the chaincode server is not serving yet")
		}
		return nil
	}), log)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}

	log.Info("starting chaincode server",
		"chaincodeId", cfg.ChaincodeID,
		"address", cfg.Address,
		"tls", cfg.TLSEnabled(),
		"clientAuth", cfg.ClientAuthRequired(),
		"ops", opsAddr)
	done := make(chan error, 1)
	go func() { done <- srv.Start() }()
	started.Store(true)

	select {
	case err := <-done:
		log.Error("chaincode server stopped", "err", err)
		return 1
	case <-ctx.Done():
		log.Info("shutting down on signal")
		return 0
	}
}

// runClient serves the peer that started this process: the shim dials it
// (-peer.address) and returns when the peer ends the stream.
func runClient(log *slog.Logger) int {
	cc, err := contract.NewChaincode(contract.WithLogger(log))
	if err != nil {
		log.Error("cannot build the chaincode", "err", err)
		return 1
	}
	log.Info("starting chaincode in client mode", "chaincodeId", os.Getenv(server.EnvPeerChaincodeID))
	if err := shim.Start(server.NewMetrics(server.NewRegistry()).Instrument(cc)); err != nil {
		log.Error("chaincode stopped", "err", err)
		return 1
	}
	return 0
}
