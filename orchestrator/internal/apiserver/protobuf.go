package apiserver

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// protobufContentType is Kubernetes' protobuf media type. kubectl's
// generators (kubectl create namespace, create deployment, run, ...)
// send their bodies in it; responses are always JSON or YAML, which
// kubectl also accepts.
const protobufContentType = "application/vnd.kubernetes.protobuf"

// protobufDecoder reads protobuf request bodies of the Kubernetes API
// groups Flotilla's kinds come from, through k8s.io/api's types, into the
// JSON the server's strict decoder reads.
type protobufDecoder struct {
	serializer *protobuf.Serializer
}

func newProtobufDecoder() (*protobufDecoder, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, autoscalingv1.AddToScheme, rbacv1.AddToScheme,
		policyv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return &protobufDecoder{serializer: protobuf.NewSerializer(s, s)}, nil
}

// toJSON decodes a protobuf body into JSON with apiVersion and kind set
// and the fields the body did not set left out (protobuf has no "absent"
// for them: the Kubernetes types write null, "", {} and [] for such
// fields, which Flotilla's types may lack).
//
// Errors: BadRequest for a body that does not decode;
// UnsupportedMediaType for a kind of another API group.
func (d *protobufDecoder) toJSON(body []byte) ([]byte, error) {
	obj, gvk, err := d.serializer.Decode(body, nil, nil)
	if err != nil {
		if runtime.IsNotRegisteredError(err) {
			return nil, api.NewUnsupportedMediaType(fmt.Sprintf("protobuf is not supported for this kind: %v; send application/json", err))
		}
		return nil, api.NewBadRequest(fmt.Sprintf("the protobuf body does not decode: %v", err))
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("the protobuf body does not encode as JSON: %v", err))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, api.NewInternalError(err)
	}
	pruned, _ := pruneEmpty(m).(map[string]any)
	if pruned == nil {
		pruned = map[string]any{}
	}
	pruned["apiVersion"], pruned["kind"] = gvk.GroupVersion().String(), gvk.Kind
	return json.Marshal(pruned)
}

// pruneEmpty removes null, "", {} and [] values from maps, recursively,
// and returns nil when v itself ends up empty. Zero numbers and false are
// kept: for pointer fields they are what the client set.
func pruneEmpty(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
	case map[string]any:
		for k, e := range x {
			if p := pruneEmpty(e); p == nil {
				delete(x, k)
			} else {
				x[k] = p
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i, e := range x {
			if p := pruneEmpty(e); p != nil {
				x[i] = p
			} else if _, isMap := e.(map[string]any); isMap {
				x[i] = map[string]any{} // keep list positions
			}
		}
	}
	return v
}
