# Versions the Kubernetes setup builds by default (sourced by setup/install-k8s.sh and setup/k8s/*.sh).
# Kubernetes: the newest 1.34 patch release the Go module proxy serves (staging modules v0.34.N).
GR_K8S_VERSION="${GREENRACE_K8S_VERSION:-v1.34.12}"
# CoreDNS: built with `go install github.com/coredns/coredns@<version>` (needs Go >= 1.26).
GR_COREDNS_VERSION="${GREENRACE_COREDNS_VERSION:-v1.15.0}"
