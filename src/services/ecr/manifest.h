// Image manifests as ECR and the registry accept them: OCI image manifest and index, Docker schema 2
// manifest and manifest list. Parsing reads what Gantry needs (the media type, the blobs or
// manifests referenced, the platform of each index entry) and checks the shape; the bytes themselves
// are stored and served exactly as pushed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "image/digest.h"
#include "image/media_types.h"

namespace gantry::ecr {

inline constexpr std::string_view kOciManifest = image::kMediaTypeOciManifest;
inline constexpr std::string_view kOciIndex = image::kMediaTypeOciIndex;
inline constexpr std::string_view kDockerManifest = image::kMediaTypeDockerManifest;
inline constexpr std::string_view kDockerManifestList = image::kMediaTypeDockerManifestList;

bool is_manifest_media_type(std::string_view media_type);  // one of the four above
bool is_index_media_type(std::string_view media_type);     // OCI index or Docker manifest list

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
};

struct Descriptor {
  std::string media_type;
  image::Digest digest;
  uint64_t size = 0;
  std::optional<Platform> platform;  // index entries only
};

struct Manifest {
  std::string media_type;
  std::optional<Descriptor> config;   // image manifests
  std::vector<Descriptor> layers;     // image manifests
  std::vector<Descriptor> manifests;  // indexes
  bool is_index() const { return is_index_media_type(media_type); }
  // ECR's imageSizeInBytes: config and layers; for an index, the manifests it lists.
  uint64_t size_bytes() const;
};

// `declared` is the media type the client named (Content-Type, imageManifestMediaType), empty when
// none. The media type is the declared one, else the document's mediaType member, else guessed from
// the shape (manifests → OCI index, config → OCI manifest); declared and document must agree when
// both are given. Errors are kEcrInvalidParameter naming what is wrong.
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view declared);

// Picks the entry of an index for `os`/`architecture`; nullopt when it has none.
std::optional<Descriptor> select_platform(const Manifest& index, std::string_view os, std::string_view architecture);

// Whether a client that sent this Accept header value (several headers joined with ",") takes
// `media_type`. An empty Accept takes everything; "*/*" too.
bool accepts(std::string_view accept, std::string_view media_type);

}  // namespace gantry::ecr
