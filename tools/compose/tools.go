//go:build tools

// Package compose pins the Docker Compose CLI plugin that the tests use to
// check docker-compose.yml with `docker compose config` on machines that have
// the docker client but no compose plugin.
package compose

import _ "github.com/docker/compose/v2/cmd"
