#include "image/archive_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/random.h"
#include "image/blob_store.h"
#include "image/digest.h"

namespace gantry::image {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct Entry {
  std::string path{};
  std::string data{};
  mode_t type = AE_IFREG;
  std::string symlink{};
  std::string hardlink{};
};

Entry file(std::string path, std::string data) { return Entry{.path = std::move(path), .data = std::move(data)}; }
Entry dir(std::string path) { return Entry{.path = std::move(path), .type = AE_IFDIR}; }
Entry symlink(std::string path, std::string target) {
  return Entry{.path = std::move(path), .type = AE_IFLNK, .symlink = std::move(target)};
}
Entry hardlink(std::string path, std::string target) {
  return Entry{.path = std::move(path), .hardlink = std::move(target)};
}
Entry fifo(std::string path) { return Entry{.path = std::move(path), .type = AE_IFIFO}; }

la_ssize_t append_cb(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A pax tar of `entries`, gzip-compressed when asked.
std::string make_tar(const std::vector<Entry>& entries, bool gzip = false) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_filetype(ae, e.type);
    archive_entry_set_perm(ae, e.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(ae, 1704067200, 0);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.symlink.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(ae, e.hardlink.c_str());
    bool has_data = e.type == AE_IFREG && e.hardlink.empty();
    archive_entry_set_size(ae, has_data ? static_cast<la_int64_t>(e.data.size()) : 0);
    EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
    if (has_data && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string gzip(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string sha(std::string_view bytes) { return sha256_of(bytes).str(); }
std::string hex(std::string_view bytes) { return std::string(sha256_of(bytes).hex()); }

// Two small layers, as image layers look: a directory and a file each.
std::string layer_one() { return make_tar({dir("etc/"), file("etc/hello", "hello from layer one\n")}); }
std::string layer_two() { return make_tar({dir("bin/"), file("bin/tool", std::string(20000, 'x'))}); }

std::string config_for(const std::vector<std::string>& diff_ids, std::string_view arch = "amd64") {
  json::array ids;
  for (const auto& d : diff_ids) ids.emplace_back(d);
  return json::serialize(json::object{{"architecture", arch},
                                      {"os", "linux"},
                                      {"config", json::object{{"Cmd", json::array{"sh"}}}},
                                      {"rootfs", json::object{{"type", "layers"}, {"diff_ids", ids}}}});
}

json::object descriptor(std::string_view media_type, std::string_view bytes) {
  return json::object{{"mediaType", media_type}, {"digest", sha(bytes)}, {"size", bytes.size()}};
}

std::string oci_manifest(std::string_view config, const std::vector<std::string>& gz_layers) {
  json::array layers;
  for (const auto& l : gz_layers) layers.push_back(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l));
  return json::serialize(json::object{{"schemaVersion", 2},
                                      {"mediaType", kMediaTypeOciManifest},
                                      {"config", descriptor("application/vnd.oci.image.config.v1+json", config)},
                                      {"layers", layers}});
}

Entry blob(std::string_view bytes) { return file("blobs/sha256/" + hex(bytes), std::string(bytes)); }

std::string oci_layout_json() { return R"({"imageLayoutVersion":"1.0.0"})"; }

// A classic `docker save` archive of one image made of layer_one() and layer_two().
struct DockerImage {
  std::string l1 = layer_one();
  std::string l2 = layer_two();
  std::string config = config_for({sha(l1), sha(l2)});
  std::string manifest_json(const std::string& tags_json = R"(["example.com:5000/team/app:v1","app:latest"])") const {
    return R"([{"Config":")" + hex(config) + R"(.json","RepoTags":)" + tags_json +
           R"(,"Layers":["aaa/layer.tar","bbb/layer.tar"]}])";
  }
  std::vector<Entry> entries() const {
    return {file(hex(config) + ".json", config),
            dir("aaa/"),
            file("aaa/VERSION", "1.0"),
            file("aaa/json", R"({"id":"aaa"})"),
            file("aaa/layer.tar", l1),
            dir("bbb/"),
            file("bbb/layer.tar", l2),
            file("manifest.json", manifest_json()),
            file("repositories", R"({"app":{"latest":"bbb"}})")};
  }
};

// An OCI layout with one amd64 image (two gzip layers) tagged "latest", plus an index "multi" pointing
// at it and at an arm64 image.
struct OciLayout {
  std::string g1 = gzip(layer_one());
  std::string g2 = gzip(layer_two());
  std::string config = config_for({sha(layer_one()), sha(layer_two())});
  std::string manifest = oci_manifest(config, {g1, g2});
  std::string arm_layer = gzip(make_tar({file("README", "arm64\n")}));
  std::string arm_config = config_for({sha(make_tar({file("README", "arm64\n")}))}, "arm64");
  std::string arm_manifest = oci_manifest(arm_config, {arm_layer});
  std::string index = json::serialize(json::object{
      {"schemaVersion", 2},
      {"mediaType", kMediaTypeOciIndex},
      {"manifests",
       json::array{[&] {
                     auto d = descriptor(kMediaTypeOciManifest, manifest);
                     d["platform"] = json::object{{"architecture", "amd64"}, {"os", "linux"}};
                     return d;
                   }(),
                   [&] {
                     auto d = descriptor(kMediaTypeOciManifest, arm_manifest);
                     d["platform"] = json::object{{"architecture", "arm64"}, {"os", "linux"}, {"variant", "v8"}};
                     return d;
                   }()}}});

  std::string index_json() const {
    auto image = descriptor(kMediaTypeOciManifest, manifest);
    image["annotations"] = json::object{{"org.opencontainers.image.ref.name", "latest"}};
    auto multi = descriptor(kMediaTypeOciIndex, index);
    multi["annotations"] = json::object{{"org.opencontainers.image.ref.name", "registry.local/x/multi:v2"}};
    return json::serialize(json::object{
        {"schemaVersion", 2}, {"mediaType", kMediaTypeOciIndex}, {"manifests", json::array{image, multi}}});
  }
  std::vector<Entry> entries() const {
    return {file("oci-layout", oci_layout_json()),
            dir("blobs/"),
            dir("blobs/sha256/"),
            blob(g1),
            blob(g2),
            blob(config),
            blob(manifest),
            blob(arm_layer),
            blob(arm_config),
            blob(arm_manifest),
            blob(index),
            file("index.json", index_json())};
  }
};

class ArchiveImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gantry-archive-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = BlobStore::open(dir_ / "store", random_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  Result<ArchiveImport> import(const std::vector<Entry>& entries, const ArchiveImportOptions& options = {},
                               bool gzipped = false) {
    return import_image_archive(write("image.tar", make_tar(entries, gzipped)), *store_, options);
  }

  bool stored(std::string_view bytes) { return store_->exists(sha256_of(bytes)).value(); }

  void expect_error(const Result<ArchiveImport>& r, ErrorKind kind, std::vector<std::string> fragments) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, kind) << r.error().message;
    EXPECT_TRUE(r.error().message.starts_with("import " + (dir_ / "image.tar").string() + ": ")) << r.error().message;
    for (const auto& f : fragments) EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
  }

  fs::path dir_;
  SeededRandom random_{7};
  std::unique_ptr<BlobStore> store_;
};

// ---- docker save ----

TEST_F(ArchiveImportTest, DockerArchiveBecomesASchema2Manifest) {
  DockerImage img;
  auto r = import(img.entries());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::kDockerArchive);
  ASSERT_EQ(r->manifests.size(), 1u);
  const auto& m = r->manifests[0];
  EXPECT_EQ(m.media_type, kMediaTypeDockerManifest);
  EXPECT_EQ(m.digest, sha256_of(m.bytes));
  EXPECT_EQ(store_->read_all(m.digest, 1 << 20).value(), m.bytes);
  EXPECT_EQ(m.references, (std::vector<std::string>{"example.com:5000/team/app:v1", "app:latest"}));
  EXPECT_EQ(m.tags, (std::vector<std::string>{"v1", "latest"}));
  ASSERT_TRUE(m.platform.has_value());
  EXPECT_EQ(*m.platform, (Platform{"linux", "amd64", ""}));
  EXPECT_TRUE(m.top_level);

  auto manifest = json::parse(m.bytes).as_object();
  EXPECT_EQ(manifest.at("schemaVersion").as_int64(), 2);
  EXPECT_EQ(manifest.at("config").at("mediaType").as_string(), kMediaTypeDockerConfig);
  EXPECT_EQ(manifest.at("config").at("digest").as_string(), sha(img.config));
  EXPECT_EQ(manifest.at("config").at("size").to_number<uint64_t>(), img.config.size());
  const auto& layers = manifest.at("layers").as_array();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].at("mediaType").as_string(), kMediaTypeDockerLayer);
  EXPECT_EQ(layers[0].at("digest").as_string(), sha(img.l1));
  EXPECT_EQ(layers[1].at("digest").as_string(), sha(img.l2));
  EXPECT_EQ(layers[1].at("size").to_number<uint64_t>(), img.l2.size());
  EXPECT_TRUE(stored(img.l1));
  EXPECT_TRUE(stored(img.l2));
  EXPECT_TRUE(stored(img.config));
  EXPECT_FALSE(stored(R"({"id":"aaa"})"));  // legacy v1 json is skipped
  EXPECT_EQ(r->blobs_added, 4u);            // config, two layers, the manifest

  // A second import finds everything stored already and yields the same manifest.
  auto again = import(img.entries());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->manifests[0].digest, m.digest);
  EXPECT_EQ(again->blobs_added, 0u);
  EXPECT_EQ(again->blobs_present, 3u);
}

TEST_F(ArchiveImportTest, DockerArchiveFollowsLinkedLayersAndMayBeGzipped) {
  // skopeo's form: layers stored once as <diffid>.tar, <id>/layer.tar a symlink to them; docker's
  // own form for a layer shared by two images is a hard link.
  DockerImage img;
  std::string manifest = R"([{"Config":")" + hex(img.config) +
                         R"(.json","RepoTags":["a:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]},)"
                         R"({"Config":")" +
                         hex(img.config) + R"(.json","RepoTags":["b:2"],"Layers":["ccc/layer.tar","ddd/layer.tar"]}])";
  std::vector<Entry> entries{file(hex(img.config) + ".json", img.config),
                             file(hex(img.l1) + ".tar", img.l1),
                             file(hex(img.l2) + ".tar", img.l2),
                             symlink("aaa/layer.tar", "../" + hex(img.l1) + ".tar"),
                             symlink("bbb", "./eee"),
                             symlink("eee/layer.tar", "../" + hex(img.l2) + ".tar"),
                             hardlink("ccc/layer.tar", hex(img.l1) + ".tar"),
                             hardlink("ddd/layer.tar", hex(img.l2) + ".tar"),
                             file("manifest.json", manifest)};
  auto r = import(entries, {}, /*gzipped=*/true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->manifests.size(), 1u);  // both images are the same manifest: tags merged
  EXPECT_EQ(r->manifests[0].tags, (std::vector<std::string>{"1", "2"}));
}

TEST_F(ArchiveImportTest, DockerArchiveWithGzipLayerChecksTheUncompressedDiffId) {
  DockerImage img;
  std::string gz = gzip(img.l1);
  std::string config = config_for({sha(img.l1)});
  std::string manifest = R"([{"Config":")" + hex(config) + R"(.json","RepoTags":null,"Layers":["l.tar.gz"]}])";
  auto r = import({file(hex(config) + ".json", config), file("l.tar.gz", gz), file("manifest.json", manifest)});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto layers = json::parse(r->manifests[0].bytes).at("layers").as_array();
  EXPECT_EQ(layers[0].at("mediaType").as_string(), kMediaTypeDockerLayerGzip);
  EXPECT_EQ(layers[0].at("digest").as_string(), sha(gz));
  EXPECT_TRUE(r->manifests[0].tags.empty());
}

TEST_F(ArchiveImportTest, DockerLayerThatIsNotTheConfigsDiffIdIsRejected) {
  DockerImage img;
  auto entries = img.entries();
  entries[4].data = layer_two();  // aaa/layer.tar holds the wrong layer
  auto r = import(entries);
  expect_error(r, ErrorKind::kImageDigestInvalid, {"aaa/layer.tar", "diff_ids[0]", sha(img.l1)});
}

TEST_F(ArchiveImportTest, DockerConfigThatDoesNotHashToItsNameIsRejected) {
  DockerImage img;
  auto entries = img.entries();
  entries[0].data = config_for({sha(img.l1), sha(img.l2)}, "arm64");  // same name, other content
  auto r = import(entries);
  expect_error(r, ErrorKind::kImageDigestInvalid, {hex(img.config) + ".json", "does not hash to its name"});
}

TEST_F(ArchiveImportTest, DockerMissingLayerIsRejected) {
  DockerImage img;
  auto entries = img.entries();
  entries.erase(entries.begin() + 6);  // bbb/layer.tar
  auto r = import(entries);
  expect_error(r, ErrorKind::kImageBlobUnknown, {"bbb/layer.tar", "not in the archive", "app:v1"});
}

TEST_F(ArchiveImportTest, DockerLayerCountMustMatchTheConfig) {
  DockerImage img;
  auto entries = img.entries();
  std::string config = config_for({sha(img.l1)});
  entries[0] = file(hex(config) + ".json", config);
  entries[7] = file("manifest.json", R"([{"Config":")" + hex(config) +
                                         R"(.json","RepoTags":[],"Layers":["aaa/layer.tar","bbb/layer.tar"]}])");
  expect_error(import(entries), ErrorKind::kImageLayerInvalid, {"2 layers", "1 diff_ids"});
}

// ---- OCI layout ----

TEST_F(ArchiveImportTest, OciLayoutKeepsManifestsAndPutsChildrenFirst) {
  OciLayout oci;
  auto r = import(oci.entries());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ArchiveFormat::kOciLayout);
  ASSERT_EQ(r->manifests.size(), 3u);
  // index.json: the amd64 image ("latest"), then the index, which repeats the amd64 image (merged) and
  // adds the arm64 one before itself.
  const auto& amd = r->manifests[0];
  EXPECT_EQ(amd.digest, sha256_of(oci.manifest));
  EXPECT_EQ(amd.bytes, oci.manifest);
  EXPECT_EQ(amd.media_type, kMediaTypeOciManifest);
  EXPECT_EQ(amd.tags, std::vector<std::string>{"latest"});
  EXPECT_TRUE(amd.top_level);
  EXPECT_EQ(*amd.platform, (Platform{"linux", "amd64", ""}));  // from its config
  const auto& arm = r->manifests[1];
  EXPECT_EQ(arm.digest, sha256_of(oci.arm_manifest));
  EXPECT_FALSE(arm.top_level);
  EXPECT_TRUE(arm.tags.empty());
  EXPECT_EQ(*arm.platform, (Platform{"linux", "arm64", "v8"}));  // from the index descriptor
  const auto& multi = r->manifests[2];
  EXPECT_EQ(multi.digest, sha256_of(oci.index));
  EXPECT_EQ(multi.media_type, kMediaTypeOciIndex);
  EXPECT_FALSE(multi.platform.has_value());
  EXPECT_EQ(multi.references, std::vector<std::string>{"registry.local/x/multi:v2"});
  EXPECT_EQ(multi.tags, std::vector<std::string>{"v2"});
  for (std::string_view b : {oci.g1, oci.g2, oci.config, oci.arm_layer, oci.arm_config, oci.index}) {
    EXPECT_TRUE(stored(b));
  }
  EXPECT_EQ(r->blobs_added, 8u);
}

TEST_F(ArchiveImportTest, OciLayoutMayLeaveOutBlobsTheStoreHas) {
  OciLayout oci;
  ASSERT_TRUE(store_->put(oci.g2, sha256_of(oci.g2)).ok());
  auto entries = oci.entries();
  std::erase_if(entries, [&](const Entry& e) { return e.path == "blobs/sha256/" + hex(oci.g2); });
  auto r = import(entries);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST_F(ArchiveImportTest, OciBlobThatDoesNotHashToItsNameIsRejectedAndNotStored) {
  OciLayout oci;
  auto entries = oci.entries();
  std::string name = "blobs/sha256/" + hex(oci.g1);
  for (auto& e : entries) {
    if (e.path == name) e.data = gzip(layer_two());
  }
  auto r = import(entries);
  expect_error(r, ErrorKind::kImageDigestInvalid, {name, "does not hash"});
  EXPECT_FALSE(stored(oci.g1));
  EXPECT_FALSE(stored(gzip(layer_two())));
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "uploads"));
}

TEST_F(ArchiveImportTest, OciMissingBlobIsRejected) {
  OciLayout oci;
  auto entries = oci.entries();
  std::erase_if(entries, [&](const Entry& e) { return e.path == "blobs/sha256/" + hex(oci.arm_layer); });
  auto r = import(entries);
  expect_error(r, ErrorKind::kImageBlobUnknown, {sha(oci.arm_layer), "layers[0]", "neither in the archive"});
}

TEST_F(ArchiveImportTest, OciDescriptorSizeMustMatchTheBlob) {
  OciLayout oci;
  auto entries = oci.entries();
  auto image = descriptor(kMediaTypeOciManifest, oci.manifest);
  image["size"] = oci.manifest.size() + 1;
  entries.back() = file("index.json", json::serialize(json::object{{"schemaVersion", 2}, {"manifests", {image}}}));
  expect_error(import(entries), ErrorKind::kImageSizeInvalid, {"index.json manifests[0]", "descriptor says"});
}

TEST_F(ArchiveImportTest, OciLayoutNeedsItsOciLayoutFile) {
  OciLayout oci;
  auto entries = oci.entries();
  entries.erase(entries.begin());
  expect_error(import(entries), ErrorKind::kImageLayerInvalid, {"oci-layout"});
}

// ---- archive-level rejections ----

TEST_F(ArchiveImportTest, RejectsEntriesThatEscapeTheArchive) {
  DockerImage img;
  for (const auto& bad :
       {file("../evil", "x"), file("a/../../evil", "x"), file("/etc/passwd", "x"), symlink("aaa/evil", "../../outside"),
        symlink("evil", "/etc/passwd"), hardlink("evil", "../outside")}) {
    auto entries = img.entries();
    entries.insert(entries.begin() + 2, bad);
    auto r = import(entries);
    ASSERT_FALSE(r.ok()) << bad.path;
    EXPECT_EQ(r.error().kind, ErrorKind::kImageLayerInvalid) << r.error().message;
    EXPECT_NE(r.error().message.find(bad.path), std::string::npos) << r.error().message;
  }
}

TEST_F(ArchiveImportTest, RejectsSpecialFilesAndDuplicates) {
  DockerImage img;
  auto entries = img.entries();
  entries.push_back(fifo("pipe"));
  expect_error(import(entries), ErrorKind::kImageLayerInvalid, {"'pipe' is a FIFO"});
  entries = img.entries();
  entries.push_back(file("aaa/layer.tar", "again"));
  expect_error(import(entries), ErrorKind::kImageLayerInvalid, {"'aaa/layer.tar' appears twice"});
}

TEST_F(ArchiveImportTest, SizeAndEntryCaps) {
  DockerImage img;
  ArchiveImportOptions small;
  small.max_entry_bytes = 15000;  // layer one fits, layer two does not
  ASSERT_LT(img.l1.size(), 15000u);
  expect_error(import(img.entries(), small), ErrorKind::kImageSizeInvalid, {"bbb/layer.tar", "limit of 15000"});
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "uploads"));

  ArchiveImportOptions few;
  few.max_entries = 3;
  expect_error(import(img.entries(), few), ErrorKind::kImageSizeInvalid, {"more than 3 entries"});

  ArchiveImportOptions total;
  total.max_total_bytes = img.l1.size() + 100;
  expect_error(import(img.entries(), total), ErrorKind::kImageSizeInvalid, {"more than the limit", "aaa/layer.tar"});
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "uploads"));  // the upload cut short was cancelled

  ArchiveImportOptions meta;
  meta.max_metadata_bytes = 16;
  expect_error(import(img.entries(), meta), ErrorKind::kImageSizeInvalid, {"manifest.json"});
}

TEST_F(ArchiveImportTest, RejectsWhatIsNotAnImageArchive) {
  expect_error(import({file("hello.txt", "hi")}), ErrorKind::kImageLayerInvalid, {"neither an OCI image layout"});
  auto garbage = import_image_archive(write("image.tar", std::string(3000, 'z')), *store_);
  expect_error(garbage, ErrorKind::kImageLayerInvalid, {"cannot open the archive"});
  std::string truncated = make_tar(DockerImage().entries());
  truncated.resize(truncated.size() / 2);
  auto cut = import_image_archive(write("image.tar", truncated), *store_);
  expect_error(cut, ErrorKind::kImageLayerInvalid, {"truncated or corrupt"});
  auto missing = import_image_archive(dir_ / "nope.tar", *store_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.tar"), std::string::npos);
}

TEST_F(ArchiveImportTest, ReadsFromAFileDescriptor) {
  OciLayout oci;
  fs::path p = write("image.tar", make_tar(oci.entries(), /*gzip=*/true));
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto r = import_image_archive_fd(fd, "stdin", *store_);
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->manifests.size(), 3u);
}

// The archives scripts/make-test-images writes, when they have been built (skipped otherwise).
TEST_F(ArchiveImportTest, ImportsTheTestImagesWhenBuilt) {
  fs::path images = fs::path(GANTRY_GOLDEN_DIR).parent_path().parent_path().parent_path() / "build" / "test-images";
  if (const char* env = ::getenv("GANTRY_TEST_IMAGES_DIR")) images = env;
  if (!fs::exists(images / "images.json")) GTEST_SKIP() << "run scripts/make-test-images first";
  std::ifstream in(images / "images.json");
  auto summary = json::parse(std::string(std::istreambuf_iterator<char>(in), {})).at("images");
  for (std::string name : {"busybox", "python"}) {
    auto oci = import_image_archive(images / (name + ".oci.tar"), *store_);
    ASSERT_TRUE(oci.ok()) << oci.error().message;
    EXPECT_EQ(oci->manifests.at(0).digest.str(), summary.at(name).at("oci").at("manifest_digest").as_string());
    EXPECT_EQ(oci->manifests.at(0).tags, std::vector<std::string>{"latest"});
    auto docker = import_image_archive(images / (name + ".docker.tar"), *store_);
    ASSERT_TRUE(docker.ok()) << docker.error().message;
    EXPECT_EQ(docker->manifests.at(0).tags, std::vector<std::string>{"latest"});
  }
  auto multi = import_image_archive(images / "busybox-multi.oci.tar", *store_);
  ASSERT_TRUE(multi.ok()) << multi.error().message;
  EXPECT_EQ(multi->manifests.back().digest.str(), summary.at("busybox-multi").at("oci").at("index_digest").as_string());
}

}  // namespace
}  // namespace gantry::image
