// Package testpki makes throwaway X.509 material for tests: a CA, server
// certificates for loopback addresses and client certificates, written as
// PEM files the way cryptogen lays them out for the agent to load.
package testpki
