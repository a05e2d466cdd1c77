// /openapi/v2: the Swagger 2.0 document, which kubectl reads (as gnostic's protobuf OpenAPIv2 Document,
// Accept application/com.github.proto-openapi.spec.v2@v1.0+protobuf: client-go discovery OpenAPISchema)
// when it validates on the client side: for a kind that OpenAPI v3 does not describe, such as one
// whose CRD is not installed. Its lookup of that kind then finds nothing and validates nothing (kubectl
// pkg/validation: "resource is not present, let's just skip validation"), so `kubectl apply` goes on and
// reports the kind as the REST mapper does: `no matches for kind ...`, `ensure CRDs are installed first`,
// while it applies the rest. The document carries no definitions and no paths: nothing in kubectl reads more.
// Content types: kubernetes/kube-openapi pkg/handler/handler.go. Field numbers: google/gnostic openapiv2/OpenAPIv2.proto (Document swagger=1, info=2, paths=8;
// Info title=1, version=2).
import { Writer } from './protobuf/wire.js';

/** What client-go asks for, and (Go's mime parser refusing the '@') what kube-openapi's handler answers with. */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export function openApiV2(gitVersion: string, accept: string | undefined): { contentType: string; body: Buffer } {
  const a = accept ?? '';
  if (a.includes(OPENAPI_V2_PROTOBUF_ACCEPT) || a.includes(OPENAPI_V2_PROTOBUF)) {
    const info = new Writer();
    info.stringField(1, 'Kubernetes');
    info.stringField(2, gitVersion);
    const doc = new Writer();
    doc.stringField(1, '2.0');
    doc.bytesField(2, info.finish());
    doc.bytesField(8, new Uint8Array());
    return { contentType: OPENAPI_V2_PROTOBUF, body: Buffer.from(doc.finish()) };
  }
  const json = { swagger: '2.0', info: { title: 'Kubernetes', version: gitVersion }, paths: {}, definitions: {} };
  return { contentType: 'application/json', body: Buffer.from(JSON.stringify(json)) };
}
