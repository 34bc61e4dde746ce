// `gantry image load`: imports a `docker save` archive or an OCI layout tarball into an ECR
// repository of a data directory, offline (the server must not be running on that directory).
#pragma once

#include <optional>
#include <string>

#include "core/error.h"

namespace gantry::server {

struct ImageLoadOptions {
  std::string file;        // the archive
  std::string repository;  // ECR repository name
  std::optional<std::string> tag;  // tags every top-level image with this instead of the archive's tags
  bool create_repository = false;
  std::string data_dir = "./gantry-data";
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

// Prints one line per image stored. Errors name the archive entry, the blob or the rule broken.
Status load_image(const ImageLoadOptions& options);

}  // namespace gantry::server
