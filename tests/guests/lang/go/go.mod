module wasmesh.test/guest-go

go 1.24
