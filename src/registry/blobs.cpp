// Blob HEAD/GET (with Range) and DELETE.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "image/digest.h"
#include "registry/internal.h"
#include "registry/parse.h"

namespace gantry::registry {

namespace {

Error blob_unknown(const Call& call, std::string_view digest) {
  return make_error(ErrorKind::kImageBlobUnknown,
                    fmt::format("blob {} is not in repository '{}'", digest.substr(0, 80), call.route.name));
}

}  // namespace

http::Response get_blob(Call& call) {
  auto digest = image::Digest::parse(call.route.ref);
  if (!digest) return oci_error(digest.error());
  auto repo = find_repository(call);
  if (!repo) return oci_error(repo.error());
  std::optional<uint64_t> linked;
  auto st = call.env.store.read([&](ecr::EcrTables& t) -> Status {
    linked = t.blob_size(call.scope, call.route.name, digest->str());
    return {};
  });
  if (!st) return oci_error(st.error());
  if (!linked) return oci_error(blob_unknown(call, digest->str()));
  auto size = call.env.blobs.size(*digest);
  if (!size) return oci_error(size.error());

  std::optional<ByteRange> range;
  std::string_view range_header = call.request.header("range");
  if (!range_header.empty()) {
    range = parse_range(range_header, *size);
    if (!range) {
      http::Response r = oci_error(make_error(ErrorKind::kImageRangeInvalid,
                                              fmt::format("range '{}' is not satisfiable for blob {} of {} bytes",
                                                          range_header.substr(0, 64), digest->str(), *size)));
      r.set_header("Content-Range", fmt::format("bytes */{}", *size));
      return r;
    }
  }
  uint64_t offset = range ? range->first : 0;
  uint64_t length = range ? range->last - range->first + 1 : *size;
  auto reader = call.env.blobs.open_read(*digest, offset, length);
  if (!reader) return oci_error(reader.error());
  // The response owns its own descriptor: the reader's closes when it goes out of scope here.
  int fd = ::fcntl(reader->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return oci_error(make_error(ErrorKind::kInternal, fmt::format("blob {}: dup: {}", digest->str(),
                                                                  image::errno_text(errno))));
  http::Response r = reply(range ? 206 : 200);
  r.set_header("Content-Type", "application/octet-stream");
  r.set_header("Docker-Content-Digest", digest->str());
  r.set_header("Accept-Ranges", "bytes");
  r.set_header("ETag", "\"" + digest->str() + "\"");
  if (range) r.set_header("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->last, *size));
  r.file = std::make_shared<http::FileBody>(fd, offset, length);
  return r;
}

http::Response delete_blob(Call& call) {
  return oci_error(make_error(ErrorKind::kRegistryUnsupported,
                              fmt::format("deleting blobs is not supported (as in ECR): delete the images that use "
                                          "them (repository '{}')",
                                          call.route.name)));
}

}  // namespace gantry::registry
