// Package edgehub connects the module to edgeHub over MQTT under its module
// identity: identity from the IoT Edge environment (or a connection string
// in standalone mode), SAS tokens signed by the workload API (or locally),
// a fail-closed TLS configuration from the workload trust bundle, the
// events topic encoder, and a long-running MQTT session with telemetry,
// module twin and direct methods.
//
// # Use of github.com/amenzhinsky/iothub v0.9.1
//
// Only the leaf helpers of package iothub/common are used, because they were
// verified to be correct and carry no process-wide state:
//
//   - common.ParseConnectionString splits "k=v;k=v" with SplitN(…, 2), so
//     base64 keys ending in '=' survive. Duplicate keys, the key name in
//     errors and identity checks are handled here on top of it.
//   - common.NewSharedAccessSignature computes HMAC-SHA256 over
//     QueryEscape(sr)+"\n"+se, and SharedAccessSignature.String escapes sr,
//     sig and se with url.QueryEscape: upper-case hex, and '+', '/', '='
//     in sig become %2B, %2F, %3D (edgeHub WebUtility.UrlDecodes sig).
//     skn is emitted only when set; we never set it.
//
// Everything else is written here on paho.mqtt.golang and the standard
// library, because the corresponding iothub code has the defects listed in
// edge-contract.md §5.3: its workload calls share one process-wide
// http.Client behind a sync.Once with no timeout and ignore status codes
// (D3), its trust-bundle failure falls back to InsecureSkipVerify (D2), its
// module transport encodes properties with url.Values.Encode, producing '+'
// in PUBLISH topics (D1), it relies on paho auto-reconnect without proactive
// token renewal (D4), reuses subscription contexts (D5), blocks in paho
// callbacks (D6), dispatches desired patches unordered (D7) and leaves
// unknown methods unanswered (D8). This package does not import
// iothub/iotdevice or its MQTT transport, so none of that code is linked.
package edgehub
