// Which image a container definition's `image` names, and whether Gantry's own registry holds it.
//
// Gantry runs images from its own registry only (it never pulls from the internet). These name it:
//   <account>.dkr.ecr.<region>.<anything>[:port]/<repository>[:tag|@digest]  (ECR's form; any domain)
//   127.0.0.1[:port]/..., localhost[:port]/..., [::1][:port]/...            (the loopback address)
// A reference without a registry host ("busybox", "library/python:3.12") means Docker Hub, and any other
// host another registry: both are refused with CannotPullContainerError naming the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/arn.h"
#include "core/error.h"
#include "image/blob_store.h"
#include "runtime/os.h"
#include "runtime/rootfs.h"
#include "services/ecr/model.h"

namespace gantry::supervisor {

struct ImageRef {
  std::string host;        // as written, with the port; empty for a Docker Hub name
  std::string repository;  // "python-batch-job", "team/app"
  std::string tag;         // "latest" when neither tag nor digest is given
  std::string digest;      // "sha256:..." when the reference pins one
  std::optional<Scope> scope;  // the registry's account and region for an ECR-style host
};

// Parses a Docker image reference. Malformed → kRuntimeImageInvalid.
Result<ImageRef> parse_image_ref(std::string_view text);

// True when `ref` names Gantry's registry (an ECR-style host, or loopback).
bool is_local_registry(const ImageRef& ref);

// The image `text` names in Gantry's registry (its repository in `default_scope` unless an ECR-style host
// names another account or region), resolved to its layers and config for linux/amd64: (image, manifest
// digest). Another registry, or an image the registry lacks → an error saying so.
Result<std::pair<runtime::ResolvedImage, std::string>> resolve_local_image(runtime::Os& os, ecr::EcrStore& ecr,
                                                                          image::BlobStore& blobs,
                                                                          const Scope& default_scope,
                                                                          const std::string& text);

}  // namespace gantry::supervisor
