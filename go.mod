module github.com/dct-network/dct

go 1.24.0
