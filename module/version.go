package main

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "0.1.0-dev"
