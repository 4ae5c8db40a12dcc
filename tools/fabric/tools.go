//go:build tools

// Package fabrictools pins the Hyperledger Fabric 2.5.0 release commit so that
// scripts/install-fabric.sh can build peer, orderer, configtxgen, cryptogen and
// osnadmin from the Go module proxy.
package fabrictools

import (
	_ "github.com/hyperledger/fabric/cmd/configtxgen"
	_ "github.com/hyperledger/fabric/cmd/cryptogen"
	_ "github.com/hyperledger/fabric/cmd/orderer"
	_ "github.com/hyperledger/fabric/cmd/osnadmin"
	_ "github.com/hyperledger/fabric/cmd/peer"
)
