#include "image/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

namespace gantry::image {
namespace {

namespace fs = std::filesystem;

// ---- building layers with libarchive's writer ----

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;
  int perm = 0644;
  std::string symlink;   // for AE_IFLNK
  std::string hardlink;  // a hard link entry when set
  unsigned dev_major = 0;
  unsigned dev_minor = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 1600000000;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

Entry file(std::string path, std::string data, int perm = 0644) {
  Entry e;
  e.path = std::move(path);
  e.data = std::move(data);
  e.perm = perm;
  return e;
}
Entry dir(std::string path, int perm = 0755) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.perm = perm;
  return e;
}
Entry symlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.perm = 0777;
  e.symlink = std::move(target);
  return e;
}
Entry hardlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.hardlink = std::move(target);
  return e;
}
Entry device(std::string path, mode_t type, unsigned major, unsigned minor) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.perm = 0600;
  e.dev_major = major;
  e.dev_minor = minor;
  return e;
}

la_ssize_t append_cb(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// An uncompressed pax tar of `entries`.
std::string make_tar(const std::vector<Entry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_filetype(ae, e.type);
    archive_entry_set_perm(ae, static_cast<mode_t>(e.perm));
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    archive_entry_set_mtime(ae, e.mtime, 0);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.symlink.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(ae, e.hardlink.c_str());
    if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(ae, e.dev_major);
      archive_entry_set_rdevminor(ae, e.dev_minor);
    }
    for (const auto& [k, v] : e.xattrs) archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
    archive_entry_set_size(ae, e.type == AE_IFREG && e.hardlink.empty() ? static_cast<la_int64_t>(e.data.size()) : 0);
    EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
    if (!e.data.empty() && e.hardlink.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string gzip(std::string_view in, int level = 6) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
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

std::string zstd(std::string_view in, int level = 3) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string zstd_with_checksum(std::string_view in) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), in.data(), in.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  ZSTD_freeCCtx(cctx);
  return out;
}

std::string pattern(size_t n, uint32_t seed, bool compressible = false) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = compressible ? "abcdefgh \n"[(x >> 24) % 10] : static_cast<char>(x >> 24);
  }
  return s;
}

// Hands out `bytes` in pieces of `step` bytes, to exercise every buffer boundary.
LayerSource source_of(const std::string& bytes, size_t step = SIZE_MAX) {
  auto pos = std::make_shared<size_t>(0);
  return [&bytes, step, pos](std::span<uint8_t> out) -> Result<size_t> {
    size_t n = std::min({out.size(), bytes.size() - *pos, step});
    std::memcpy(out.data(), bytes.data() + *pos, n);
    *pos += n;
    return n;
  };
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::optional<std::string> xattr(const fs::path& p, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

class LayerUnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gantry-layer-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "layers");
    fs::create_directories(dir_ / "outside");
    target_ = dir_ / "layers" / "l1";
    options_.sync = false;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<UnpackResult> unpack(const std::string& bytes, size_t step = SIZE_MAX) {
    return unpack_layer(source_of(bytes, step), target_, options_);
  }

  // A rejected layer leaves nothing behind: no target, no temp dir, nothing outside.
  void expect_rejected(const std::string& bytes, std::string_view needle,
                       ErrorKind kind = ErrorKind::kImageLayerInvalid) {
    SCOPED_TRACE(::testing::Message() << "expecting '" << needle << "'");
    auto r = unpack(bytes);
    ASSERT_FALSE(r.ok()) << "unpacked a layer that should have been rejected";
    EXPECT_EQ(r.error().kind, kind) << r.error().message;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(target_.string()), std::string::npos) << r.error().message;
    EXPECT_TRUE(fs::is_empty(dir_ / "layers")) << "left something beside the target";
    EXPECT_TRUE(fs::is_empty(dir_ / "outside")) << "wrote outside the layer";
  }

  fs::path dir_;
  fs::path target_;
  UnpackOptions options_;
};

std::vector<Entry> sample_entries() {
  Entry owned = file("etc/owned", "root-owned config\n", 0640);
  owned.uid = 1234;
  owned.gid = 5678;
  owned.mtime = 1500000000;
  Entry suid = file("usr/bin/tool", "#!/bin/sh\n", 04755);
  Entry tagged = file("usr/bin/tagged", "x");
  tagged.xattrs = {{"user.origin", "gantry"}, {"trusted.note", "kept"}};
  Entry fifo = device("run/fifo", AE_IFIFO, 0, 0);
  fifo.perm = 0620;
  Entry etc = dir("etc", 0750);
  etc.mtime = 1400000000;
  return {dir("./"),
          etc,
          owned,
          dir("usr/"),
          dir("usr/bin"),
          suid,
          tagged,
          hardlink("usr/bin/tool-again", "usr/bin/tool"),
          symlink("usr/bin/sh", "/bin/busybox"),
          symlink("etc/escape-is-fine-as-a-target", "../../../../etc/passwd"),
          dir("run/"),
          fifo,
          file("./dot/slash//file", "normalised"),
          device("dev/whiteout-form", AE_IFCHR, 0, 0),
          file("empty", "")};
}

void expect_sample_tree(const fs::path& t) {
  struct stat st {};
  ASSERT_EQ(::lstat((t / "etc/owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mtime, 1500000000);
  EXPECT_EQ(slurp(t / "etc/owned"), "root-owned config\n");
  ASSERT_EQ(::lstat((t / "etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtime, 1400000000);  // directory times fixed up after its children were written
  ASSERT_EQ(::lstat((t / "usr/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  struct stat st2 {};
  ASSERT_EQ(::lstat((t / "usr/bin/tool-again").c_str(), &st2), 0);
  EXPECT_EQ(st.st_ino, st2.st_ino);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(fs::read_symlink(t / "usr/bin/sh"), "/bin/busybox");
  EXPECT_EQ(fs::read_symlink(t / "etc/escape-is-fine-as-a-target"), "../../../../etc/passwd");
  ASSERT_EQ(::lstat((t / "run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  EXPECT_EQ(slurp(t / "dot/slash/file"), "normalised");
  ASSERT_EQ(::lstat((t / "dev/whiteout-form").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(xattr(t / "usr/bin/tagged", "user.origin"), "gantry");
  EXPECT_EQ(xattr(t / "usr/bin/tagged", "trusted.note"), "kept");
  EXPECT_EQ(fs::file_size(t / "empty"), 0u);
  ASSERT_EQ(::lstat(t.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(LayerUnpackTest, PlainGzipAndZstdUnpackTheSameTreeWithTheSameDiffId) {
  std::string tar = make_tar(sample_entries());
  Digest diff_id = sha256_of(tar);
  struct Case {
    const char* name;
    std::string bytes;
    size_t step;
  };
  std::vector<Case> cases = {{"plain", tar, SIZE_MAX}, {"gzip", gzip(tar), SIZE_MAX}, {"zstd", zstd(tar), SIZE_MAX},
                             {"plain-7", tar, 7},      {"gzip-3", gzip(tar), 3},      {"zstd-5", zstd(tar), 5}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    target_ = dir_ / "layers" / c.name;
    auto r = unpack(c.bytes, c.step);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->diff_id, diff_id);
    EXPECT_EQ(r->tar_bytes, tar.size());
    EXPECT_EQ(r->entries, sample_entries().size());
    EXPECT_EQ(r->unpacked_bytes, 18u + 10u + 1u + 10u);
    expect_sample_tree(target_);
  }
  // Nothing but the targets beside them.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "layers"), fs::directory_iterator()), 6);
}

TEST_F(LayerUnpackTest, MultiMemberGzipAndMultiFrameZstd) {
  std::string tar = make_tar({file("a", pattern(100000, 1)), file("b", pattern(50000, 2))});
  size_t cut = 7 * 512 + 3;
  auto r = unpack(gzip(tar.substr(0, cut)) + gzip(tar.substr(cut)));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->diff_id, sha256_of(tar));
  target_ = dir_ / "layers" / "l2";
  r = unpack(zstd(tar.substr(0, cut)) + zstd(tar.substr(cut)));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->diff_id, sha256_of(tar));
  EXPECT_EQ(slurp(target_ / "b"), pattern(50000, 2));
}

TEST_F(LayerUnpackTest, FromAFileAndWithTheExpectedDiffId) {
  std::string tar = make_tar({file("hello", "world")});
  std::ofstream(dir_ / "layer.tar.gz", std::ios::binary) << gzip(tar);
  options_.expected_diff_id = sha256_of(tar);
  options_.sync = true;
  auto r = unpack_layer_file(dir_ / "layer.tar.gz", target_, options_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(target_ / "hello"), "world");
}

TEST_F(LayerUnpackTest, DiffIdMismatchLeavesNothing) {
  options_.expected_diff_id = sha256_of("another layer");
  expect_rejected(gzip(make_tar({file("hello", "world")})), "does not match the expected");
}

TEST_F(LayerUnpackTest, MediaTypes) {
  EXPECT_EQ(*layer_compression_for_media_type("application/vnd.oci.image.layer.v1.tar"), LayerCompression::kNone);
  EXPECT_EQ(*layer_compression_for_media_type("application/vnd.oci.image.layer.v1.tar+gzip"), LayerCompression::kGzip);
  EXPECT_EQ(*layer_compression_for_media_type("application/vnd.oci.image.layer.v1.tar+zstd"), LayerCompression::kZstd);
  EXPECT_EQ(*layer_compression_for_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            LayerCompression::kGzip);
  EXPECT_EQ(*layer_compression_for_media_type("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
            LayerCompression::kGzip);
  auto bad = layer_compression_for_media_type("application/vnd.oci.image.config.v1+json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kImageLayerInvalid);
}

TEST_F(LayerUnpackTest, DeclaredCompressionMustMatchTheBytes) {
  std::string tar = make_tar({file("a", "b")});
  options_.compression = LayerCompression::kZstd;
  expect_rejected(gzip(tar), "declared zstd but its bytes are gzip");
  options_.compression = LayerCompression::kGzip;
  expect_rejected(tar, "declared gzip but its bytes are uncompressed");
  options_.compression = LayerCompression::kZstd;
  auto r = unpack(zstd(tar));
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST_F(LayerUnpackTest, WhiteoutsBecomeOverlayForm) {
  std::string tar =
      make_tar({dir("etc"), file("etc/.wh.passwd", ""), dir("var/cache"), file("var/cache/.wh..wh..opq", ""),
                file("var/cache/new", "n"), file("implied/parent/.wh.gone", ""), file(".wh..wh.plnk", ""),
                file("kept", "mine"), file(".wh.kept", "")});
  auto r = unpack(gzip(tar));
  ASSERT_TRUE(r.ok()) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::lstat((target_ / "etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(target_ / "etc/.wh.passwd"));
  ASSERT_EQ(::lstat((target_ / "implied/parent/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(xattr(target_ / "var/cache", "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(xattr(target_ / "etc", "trusted.overlay.opaque").has_value());
  EXPECT_EQ(slurp(target_ / "var/cache/new"), "n");
  EXPECT_FALSE(fs::exists(target_ / "var/cache/.wh..wh..opq"));
  EXPECT_FALSE(fs::exists(target_ / ".wh..wh.plnk"));
  EXPECT_EQ(slurp(target_ / "kept"), "mine");  // a whiteout never hides its own layer's file
}

TEST_F(LayerUnpackTest, RejectsDotDotEscape) {
  expect_rejected(make_tar({file("ok", "1"), file("../../outside/evil", "x")}), "'../../outside/evil' has a '..'");
  expect_rejected(make_tar({file("a/../../outside/evil", "x")}), "has a '..' component");
  expect_rejected(make_tar({dir("a/.."), file("b", "x")}), "'..'");
}

TEST_F(LayerUnpackTest, RejectsAbsolutePaths) {
  std::string abs = (dir_ / "outside" / "evil").string();
  expect_rejected(make_tar({file(abs, "x")}), "is absolute");
}

TEST_F(LayerUnpackTest, RejectsWritesThroughASymlink) {
  std::string outside = (dir_ / "outside").string();
  expect_rejected(make_tar({symlink("link", outside), file("link/pwned", "x")}), "lies beneath symlink 'link'");
  expect_rejected(make_tar({symlink("up", "../../outside"), file("up/pwned", "x")}), "lies beneath symlink 'up'");
  expect_rejected(make_tar({dir("d"), symlink("d/l", outside), dir("d/l/sub")}), "beneath symlink 'd/l'");
  // A whiteout or an opaque marker under a symlink must not touch its target either.
  expect_rejected(make_tar({symlink("w", outside), file("w/.wh.x", "")}), "beneath symlink 'w'");
  expect_rejected(make_tar({symlink("o", outside), file("o/.wh..wh..opq", "")}), "beneath symlink 'o'");
  // A hard link to a symlink is that symlink, too.
  expect_rejected(make_tar({symlink("s", outside), hardlink("s2", "s"), file("s2/pwned", "x")}),
                  "beneath symlink 's2'");
}

TEST_F(LayerUnpackTest, ReplacingASymlinkWithAFileDoesNotWriteThroughIt) {
  std::ofstream(dir_ / "outside" / "target") << "original";
  auto r = unpack(make_tar({symlink("x", (dir_ / "outside" / "target").string()), file("x", "replaced")}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(target_ / "x"), "replaced");
  EXPECT_FALSE(fs::is_symlink(target_ / "x"));
  EXPECT_EQ(slurp(dir_ / "outside" / "target"), "original");
}

TEST_F(LayerUnpackTest, RejectsHardLinksLeavingTheLayer) {
  expect_rejected(make_tar({hardlink("h", "../../outside/x")}), "hard link target '../../outside/x' has a '..'");
  expect_rejected(make_tar({hardlink("h", "/etc/passwd")}), "hard link target '/etc/passwd' is absolute");
  expect_rejected(make_tar({symlink("etc", "/etc"), hardlink("h", "etc/passwd")}), "hard link through symlink 'etc'");
  expect_rejected(make_tar({hardlink("h", "not-in-this-layer")}), "not an earlier entry of this layer");
  expect_rejected(make_tar({dir("d"), hardlink("h", "d")}), "entry 'h' is a hard link to directory 'd'");
  expect_rejected(make_tar({dir("./"), hardlink("h", ".")}), "hard link to the layer root");
}

TEST_F(LayerUnpackTest, RejectsDevices) {
  expect_rejected(make_tar({device("dev/sda", AE_IFBLK, 8, 0)}), "entry 'dev/sda' is a block device (8:0)");
  expect_rejected(make_tar({device("dev/null", AE_IFCHR, 1, 3)}), "entry 'dev/null' is a character device (1:3)");
  expect_rejected(make_tar({device("dev/weird", AE_IFCHR, 0, 1)}), "only 0:0");
}

TEST_F(LayerUnpackTest, RejectsOverlayXattrsFromTheLayer) {
  Entry e = dir("d");
  e.xattrs = {{"trusted.overlay.redirect", "/elsewhere"}};
  expect_rejected(make_tar({e}), "trusted.overlay.redirect");
  Entry f = file("f", "x");
  f.xattrs = {{"trusted.overlay.opaque", "y"}};
  expect_rejected(make_tar({f}), "entry 'f' carries xattr 'trusted.overlay.opaque'");
}

TEST_F(LayerUnpackTest, RejectsTruncatedAndCorruptStreams) {
  std::string tar = make_tar({file("big", pattern(300000, 9)), file("small", "s")});
  std::string gz = gzip(tar);
  expect_rejected(gz.substr(0, gz.size() / 2), "gzip stream is truncated");
  expect_rejected(gz.substr(0, gz.size() - 4), "gzip stream is truncated");  // trailer cut: length missing
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x55;  // inside the CRC32
  expect_rejected(bad_crc, "gzip stream is corrupt");
  std::string flipped = gz;
  for (size_t i = 100; i < 200; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  expect_rejected(flipped, "corrupt");
  expect_rejected(gz + "garbage", "gzip stream is corrupt");

  std::string zs = zstd(tar);
  expect_rejected(zs.substr(0, zs.size() / 2), "zstd stream is truncated");
  expect_rejected(zs.substr(0, zs.size() - 1), "zstd stream is truncated");
  // zstd frames carry a checksum only when the writer asks for one; with it, damage is caught.
  std::string zsum = zstd_with_checksum(tar);
  ASSERT_TRUE(unpack(zsum).ok());
  fs::remove_all(target_);
  zsum.back() ^= 0x01;
  expect_rejected(zsum, "zstd stream is corrupt");
  // Without one, damage shows up as a broken tar (and, in general, as a wrong diffID).
  std::string zflip = zs;
  for (size_t i = 20; i < 60; ++i) zflip[i] = static_cast<char>(~zflip[i]);
  expect_rejected(zflip, "unpack layer");

  expect_rejected(tar.substr(0, 100000), "big");                 // plain tar cut inside an entry
  expect_rejected(std::string(2000, 'x'), "not a tar archive");  // not a tar at all
}

TEST_F(LayerUnpackTest, UnpacksTwoThousandEntries) {
  std::vector<Entry> entries;
  for (int d = 0; d < 20; ++d) {
    entries.push_back(dir("d" + std::to_string(d)));
    for (int f = 0; f < 99; ++f) {
      entries.push_back(file("d" + std::to_string(d) + "/f" + std::to_string(f), std::to_string(d * 1000 + f)));
    }
  }
  entries.push_back(symlink("latest", "d19/f98"));
  ASSERT_EQ(entries.size(), 2001u);
  auto r = unpack(zstd(make_tar(entries)));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries, 2001u);
  EXPECT_EQ(slurp(target_ / "d7/f42"), "7042");
  EXPECT_EQ(slurp(target_ / "latest"), "19098");
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(target_); it != fs::recursive_directory_iterator(); ++it) ++n;
  EXPECT_EQ(n, 2001u);
}

TEST_F(LayerUnpackTest, EntryCap) {
  options_.max_entries = 10;
  std::vector<Entry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(file("f" + std::to_string(i), "x"));
  auto r = unpack(make_tar(entries));
  ASSERT_TRUE(r.ok()) << r.error().message;
  target_ = dir_ / "layers" / "l2";
  entries.push_back(file(".wh.eleventh", ""));
  auto over = unpack(make_tar(entries));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("more than the limit of 10 entries"), std::string::npos);
  EXPECT_FALSE(fs::exists(target_));
}

TEST_F(LayerUnpackTest, SizeCap) {
  options_.max_uncompressed_bytes = 1 << 20;
  // Declared size over the cap: refused from the header, before any data is read.
  expect_rejected(gzip(make_tar({file("huge", pattern(2 << 20, 1, true))})), "entry 'huge' declares 2097152 bytes");
  // Many small entries adding up: refused by the stream count.
  std::vector<Entry> entries;
  for (int i = 0; i < 8; ++i) entries.push_back(file("f" + std::to_string(i), pattern(200000, i, true)));
  expect_rejected(zstd(make_tar(entries)), "larger than the limit of 1048576 uncompressed bytes");
  // A gzip bomb: a few KB that inflate to far more than the cap.
  expect_rejected(gzip(std::string(64 << 20, '\0'), 9), "larger than the limit");
}

TEST_F(LayerUnpackTest, TargetMustNotExist) {
  fs::create_directories(target_);
  auto r = unpack(make_tar({file("a", "b")}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_NE(r.error().message.find("already exists"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(target_));
}

TEST_F(LayerUnpackTest, RootEntrySetsTheRootMode) {
  auto r = unpack(make_tar({dir("./", 0700), file("a", "b")}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(fs::status(target_).permissions(), fs::perms::owner_all);
  fs::remove_all(target_);
  expect_rejected(make_tar({file(".", "x")}), "names the layer root but is not a directory");
}

TEST_F(LayerUnpackTest, NeverChangesTheWorkingDirectory) {
  auto before = fs::current_path();
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "dir" + std::to_string(i) + "/";
  auto r = unpack(make_tar({file(deep + "leaf", "x"), symlink("s", "/"), hardlink("h", deep + "leaf")}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(fs::current_path(), before);
  // Paths long enough that libarchive would chdir() to reach them are refused instead.
  std::string very_deep;
  for (int i = 0; i < 400; ++i) very_deep += "directory" + std::to_string(i) + "/";
  fs::remove_all(target_);
  expect_rejected(make_tar({file(very_deep + "leaf", "x")}), "is too long");
  EXPECT_EQ(fs::current_path(), before);
}

TEST_F(LayerUnpackTest, SourceErrorsPassThrough) {
  LayerSource failing = [](std::span<uint8_t>) -> Result<size_t> {
    return make_error(ErrorKind::kInternal, "disk on fire");
  };
  auto r = unpack_layer(failing, target_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_NE(r.error().message.find("disk on fire"), std::string::npos);
  // Failing midway, inside libarchive's read callback.
  std::string tar = make_tar({file("a", pattern(3 << 20, 3))});
  auto served = std::make_shared<size_t>(0);
  LayerSource flaky = [&tar, served](std::span<uint8_t> out) -> Result<size_t> {
    if (*served > (1 << 20)) return make_error(ErrorKind::kInternal, "read blob: EIO");
    size_t n = std::min(out.size(), tar.size() - *served);
    std::memcpy(out.data(), tar.data() + *served, n);
    *served += n;
    return n;
  };
  r = unpack_layer(flaky, target_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_NE(r.error().message.find("read blob: EIO"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(dir_ / "layers"));
}

// The source is read on a helper thread a few MiB ahead of the writer. A layer rejected at its first
// entry must stop that thread: the call returns without reading the rest of a large stream, and the
// source is never called after it returns.
TEST_F(LayerUnpackTest, RejectedLayerStopsReadingAhead) {
  std::string tar = make_tar({file("../evil", "x"), file("big", pattern(64 << 20, 5))});
  auto served = std::make_shared<size_t>(0);
  auto calls_after_return = std::make_shared<std::atomic<int>>(0);
  auto returned = std::make_shared<std::atomic<bool>>(false);
  LayerSource source = [&tar, served, calls_after_return, returned](std::span<uint8_t> out) -> Result<size_t> {
    if (*returned) ++*calls_after_return;
    size_t n = std::min({out.size(), tar.size() - *served, size_t{64} << 10});
    std::memcpy(out.data(), tar.data() + *served, n);
    *served += n;
    return n;
  };
  auto r = unpack_layer(source, target_, options_);
  returned->store(true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("has a '..' component"), std::string::npos) << r.error().message;
  EXPECT_LE(*served, size_t{8} << 20) << "read far past the rejected entry";
  EXPECT_EQ(calls_after_return->load(), 0);
  EXPECT_TRUE(fs::is_empty(dir_ / "layers"));
}

// Opaque dirs are trusted.* xattrs: without CAP_SYS_ADMIN the unpack must fail and say why. (0:0
// whiteout devices need no capability since Linux 5.8.)
TEST_F(LayerUnpackTest, OpaqueDirWithoutCapSysAdminSaysWhy) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop a capability it has";
  std::string layer = make_tar({dir("d"), file("d/.wh..wh..opq", "")});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2]{};
    ::syscall(SYS_capget, &hdr, caps);
    caps[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
    caps[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
    std::string out = ::syscall(SYS_capset, &hdr, caps) != 0 ? "capset failed" : "";
    if (out.empty()) {
      auto r = unpack(layer);
      out = r.ok() ? "unpacked" : r.error().message;
    }
    ssize_t ignored = ::write(fds[1], out.data(), out.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_NE(message.find("entry 'd/.wh..wh..opq': set xattr trusted.overlay.opaque: Operation not permitted"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("CAP_SYS_ADMIN"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(dir_ / "layers"));
}

TEST_F(LayerUnpackTest, RemovesStaleUnpackDirs) {
  fs::create_directories(dir_ / "layers" / ".sha256:abc.unpack-Q1w2E3" / "etc");
  fs::create_directories(dir_ / "layers" / "sha256:def");
  auto n = remove_stale_unpacks(dir_ / "layers");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(fs::exists(dir_ / "layers" / "sha256:def"));
  EXPECT_FALSE(fs::exists(dir_ / "layers" / ".sha256:abc.unpack-Q1w2E3"));
}

// Rough throughput of a 100 MB layer (uncompressed bytes per second), printed, not asserted.
// Run with --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'.
TEST_F(LayerUnpackTest, DISABLED_Throughput100MB) {
  std::vector<Entry> entries;
  for (int i = 0; i < 100; ++i) {
    // Half random (incompressible), half text-like, as real layers mix binaries and text.
    entries.push_back(file("bin/f" + std::to_string(i), pattern(1 << 20, static_cast<uint32_t>(i), i % 2 == 1)));
  }
  for (int i = 0; i < 2000; ++i) entries.push_back(file("small/s" + std::to_string(i), pattern(2000, i, true)));
  std::string tar = make_tar(entries);
  struct Case {
    const char* name;
    std::string bytes;
    bool sync;
  };
  // GANTRY_THROUGHPUT_CASES=plain,gzip picks cases (all four by default), e.g. to profile one alone.
  const char* only = std::getenv("GANTRY_THROUGHPUT_CASES");
  auto wanted = [&](std::string_view name) {
    if (only == nullptr) return true;
    for (auto part : std::views::split(std::string_view(only), ',')) {
      if (std::string_view(part.begin(), part.end()) == name) return true;
    }
    return false;
  };
  std::vector<Case> cases;
  std::string gz = wanted("gzip") || wanted("gzip+syncfs") ? gzip(tar) : std::string();
  if (wanted("plain")) cases.push_back({"plain", tar, false});
  if (wanted("gzip")) cases.push_back({"gzip", gz, false});
  if (wanted("zstd")) cases.push_back({"zstd", zstd(tar), false});
  if (wanted("gzip+syncfs")) cases.push_back({"gzip+syncfs", gz, true});
  if (const char* where = std::getenv("GANTRY_THROUGHPUT_DIR")) {  // e.g. a tmpfs, to leave the disk out
    fs::remove_all(dir_);
    char tmpl[4096];
    std::snprintf(tmpl, sizeof tmpl, "%s/gantry-layer-test-XXXXXX", where);
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "layers");
  }
  for (const auto& c : cases) {
    std::ofstream(dir_ / "layer", std::ios::binary | std::ios::trunc) << c.bytes;
    target_ = dir_ / "layers" / c.name;
    options_.sync = c.sync;
    auto cpu_now = [] {
      timespec ts{};
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    };
    double cpu_start = cpu_now();
    auto start = std::chrono::steady_clock::now();
    auto r = unpack_layer_file(dir_ / "layer", target_, options_);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = cpu_now() - cpu_start;
    ASSERT_TRUE(r.ok()) << r.error().message;
    double mb = static_cast<double>(r->tar_bytes) / 1e6;
    // Wall time depends on whoever else uses the disk and CPUs; CPU time is this unpack's own cost.
    std::printf(
        "[ throughput ] %-12s %6.1f MB tar (%6.1f MB compressed): wall %.3f s = %6.1f MB/s, "
        "cpu %.3f s = %6.1f MB/s\n",
        c.name, mb, static_cast<double>(c.bytes.size()) / 1e6, secs, mb / secs, cpu, mb / cpu);
  }
  // GANTRY_THROUGHPUT_KEEP=1 leaves the unpacked trees for the caller to delete later: on ext4 without a
  // journal, creating inodes soon after deleting thousands is slow for everyone (the allocator skips
  // recently deleted inodes one by one), which would charge the next run for this one's cleanup.
  if (std::getenv("GANTRY_THROUGHPUT_KEEP") != nullptr && std::getenv("GANTRY_THROUGHPUT_DIR") != nullptr) {
    fs::remove(dir_ / "layer");
    dir_.clear();  // TearDown removes nothing
  }
}

}  // namespace
}  // namespace gantry::image
