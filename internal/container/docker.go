package container

import (
	"encoding/json"
	"strings"
)

// IoT Edge labels, verified against Azure/iotedge: edgeAgent's Docker
// runtime stamps every module container with the owner label
// (Microsoft.Azure.Devices.Edge.Agent.Docker Constants.Labels.Owner,
// edgelet-docker OWNER_LABEL_KEY) and names the container after the
// module ("edgeAgent", "edgeHub", "SimulatedTemperatureSensor"). The
// module label exists only in the Kubernetes mode (edgelet-kube
// EDGE_MODULE_LABEL), so the Docker container name is the module name.
const (
	LabelOwner      = "net.azure-devices.edge.owner"
	OwnerEdgeAgent  = "Microsoft.Azure.Devices.Edge.Agent"
	LabelModule     = "net.azure-devices.edge.module"
	LabelModuleOrig = "net.azure-devices.edge.original-moduleid"
)

// ContainerConfig is what Lookup needs of an engine's on-disk record of
// one container.
type ContainerConfig struct {
	ID     string
	Name   string // without Docker's leading "/"
	Image  string // as the user named it, e.g. "mcr.microsoft.com/azureiotedge-agent:1.5"
	Labels map[string]string
}

// dockerConfigV2 mirrors the fields of Docker's
// <data-root>/containers/<id>/config.v2.json that we read.
type dockerConfigV2 struct {
	ID     string
	Name   string
	Image  string // the image's content id, "sha256:…"
	Config *struct {
		Image  string
		Labels map[string]string
	}
}

// ParseContainerConfig parses Docker's config.v2.json.
func ParseContainerConfig(b []byte) (ContainerConfig, error) {
	var d dockerConfigV2
	if err := json.Unmarshal(b, &d); err != nil {
		return ContainerConfig{}, malformed("config.v2.json: %v", err)
	}
	if !isID(d.ID) {
		return ContainerConfig{}, malformed("config.v2.json: id %q", d.ID)
	}
	c := ContainerConfig{ID: d.ID, Name: strings.TrimPrefix(d.Name, "/"), Image: d.Image}
	if d.Config != nil {
		c.Labels = d.Config.Labels
		if d.Config.Image != "" {
			c.Image = d.Config.Image
		}
	}
	return c, nil
}

// ociSpec mirrors the annotations of an OCI runtime bundle's config.json.
type ociSpec struct {
	Annotations map[string]string `json:"annotations"`
}

// Annotations the CRI plugins put in the OCI spec. containerd's CRI
// (io.kubernetes.cri.*) and CRI-O (io.kubernetes.container.name,
// io.kubernetes.cri-o.ImageName) name them differently.
var ociNameKeys = [...]string{"io.kubernetes.cri.container-name", "io.kubernetes.container.name"}
var ociImageKeys = [...]string{"io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"}

// ParseOCIConfig reads name and image from an OCI bundle's config.json
// (containerd's runtime v2 task state); labels are not kept there.
func ParseOCIConfig(id string, b []byte) (ContainerConfig, error) {
	var s ociSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return ContainerConfig{}, malformed("oci config.json: %v", err)
	}
	c := ContainerConfig{ID: id}
	for _, k := range ociNameKeys {
		if v := s.Annotations[k]; v != "" && c.Name == "" {
			c.Name = v
		}
	}
	for _, k := range ociImageKeys {
		if v := s.Annotations[k]; v != "" && c.Image == "" {
			c.Image = v
		}
	}
	return c, nil
}

// info derives the attribution from an engine record.
func (c ContainerConfig) info(runtime string) Info {
	in := Info{ID: c.ID, Name: c.Name, Image: c.Image, Runtime: runtime}
	if c.Labels[LabelOwner] == OwnerEdgeAgent {
		in.IsIoTEdge = true
		in.Module = c.Name
		for _, k := range []string{LabelModuleOrig, LabelModule} {
			if v := c.Labels[k]; v != "" {
				in.Module = v
				break
			}
		}
	}
	return in
}
