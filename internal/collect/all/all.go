// Package all links every event source into the binary. Each source
// registers itself with collect.Register in its init function, so
// importing it is all that is needed; every new source under
// internal/collect adds its blank import here, and main imports only
// this package.
package all

import (
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/baseline"   // OSBaseline
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/connection" // ConnectionCreate
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/firewall"   // FirewallConfiguration
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/hardware"   // ConnectedHardware
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/listening"  // ListeningPorts
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/login"      // Login
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/process"    // ProcessCreate, ProcessTerminate
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/sysinfo"    // SystemInformation
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/users"      // LocalUsers
)
