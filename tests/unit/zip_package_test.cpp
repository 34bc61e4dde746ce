#include "image/zip_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gantry::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCorrupt =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

// ---- building zips with libarchive's writer ----

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;
  int perm = 0644;
  std::string symlink;  // for AE_IFLNK
};

Entry file(std::string path, std::string data, int perm = 0644) {
  return {std::move(path), AE_IFREG, std::move(data), perm, {}};
}
Entry dir(std::string path) { return {std::move(path), AE_IFDIR, {}, 0755, {}}; }
Entry link(std::string path, std::string target) { return {std::move(path), AE_IFLNK, {}, 0777, std::move(target)}; }

la_ssize_t append(struct archive*, void* out, const void* buf, size_t len) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), len);
  return static_cast<la_ssize_t>(len);
}

std::string make_zip(const std::vector<Entry>& entries, bool deflate = true) {
  std::string out;
  struct archive* a = archive_write_new();
  EXPECT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
  EXPECT_EQ(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);  // no padding after the zip
  if (!deflate) {
    EXPECT_EQ(archive_write_set_format_option(a, "zip", "compression", "store"), ARCHIVE_OK);
  }
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, append, nullptr, nullptr), ARCHIVE_OK);
  for (const auto& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.perm);
    archive_entry_set_mtime(entry, 1600000000, 0);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.symlink.c_str());
    archive_entry_set_size(entry, e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
    EXPECT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << e.path << ": " << archive_error_string(a);
    if (!e.data.empty()) {
      EXPECT_EQ(archive_write_data(a, e.data.data(), e.data.size()), static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(entry);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

uint32_t le32(const std::string& z, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(z[at + i]);
  return v;
}
uint16_t le16(const std::string& z, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(z[at]) | (static_cast<uint8_t>(z[at + 1]) << 8));
}
void put32(std::string& z, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) z[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Offsets of the central directory headers ("PK\1\2"), in order.
std::vector<size_t> central_headers(const std::string& z) {
  size_t eocd = z.rfind(std::string("PK\5\6", 4));
  EXPECT_NE(eocd, std::string::npos);
  std::vector<size_t> out;
  size_t at = le32(z, eocd + 16);
  for (uint16_t i = 0, n = le16(z, eocd + 10); i < n; ++i) {
    EXPECT_EQ(z.substr(at, 4), std::string("PK\1\2", 4));
    out.push_back(at);
    at += 46 + le16(z, at + 28) + le16(z, at + 30) + le16(z, at + 32);
  }
  return out;
}

// Rewrites the Unix mode an entry's central directory header claims (the reader trusts that one).
void set_unix_mode(std::string& z, size_t index, uint32_t mode) {
  size_t at = central_headers(z).at(index);
  z[at + 5] = 3;  // made by: Unix
  put32(z, at + 38, mode << 16);
}

// Sets the "names are UTF-8" flag (general purpose bit 11) of every entry, local and central headers.
void flag_utf8_names(std::string& z) {
  for (size_t central : central_headers(z)) {
    z[central + 9] = static_cast<char>(z[central + 9] | 0x08);
    z[le32(z, central + 42) + 7] = static_cast<char>(z[le32(z, central + 42) + 7] | 0x08);
  }
}

// Makes the headers of an entry claim `size` uncompressed bytes, as a zip bomb does.
void lie_about_size(std::string& z, size_t index, uint32_t size) {
  size_t central = central_headers(z).at(index);
  put32(z, central + 24, size);
  put32(z, le32(z, central + 42) + 22, size);  // the local header
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t perm_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class ZipPackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gantry-zip-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "functions");
    dest_ = dir_ / "functions" / "code";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Unpacks `zip`, expects kLambdaInvalidParameterValue with `message`, and that nothing remains.
  void expect_refused(const std::string& zip, std::string_view message, const ZipLimits& limits = {}) {
    auto r = unpack_zip(zip, dest_, limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kLambdaInvalidParameterValue);
    EXPECT_EQ(r.error().message, message);
    EXPECT_FALSE(fs::exists(fs::symlink_status(dest_)));
    // Nothing beside the code directory either.
    EXPECT_TRUE(fs::is_empty(dir_ / "functions"));
    std::vector<std::string> top;
    for (const auto& e : fs::directory_iterator(dir_)) top.push_back(e.path().filename().string());
    EXPECT_EQ(top, std::vector<std::string>{"functions"});
  }

  fs::path dir_;
  fs::path dest_;
};

TEST_F(ZipPackageTest, UnpacksNestedDirsAndKeepsTheExecutableBit) {
  std::string zip = make_zip({
      file("bootstrap", "#!/bin/sh\necho hi\n", 0755),
      file("handler.py", "def handler(e, c):\n    return 1\n", 0600),
      dir("pkg/"),
      dir("pkg/sub/"),
      file("pkg/__init__.py", ""),
      file("pkg/sub/mod.py", "X = 1\n", 0744),
      file("implied/parents/data.json", "{}"),  // no directory entries for its parents
      dir("./"),
  });
  auto r = unpack_zip(zip, dest_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 5u);
  EXPECT_EQ(r->unzipped_bytes, 18u + 32u + 0u + 6u + 2u);
  EXPECT_EQ(slurp(dest_ / "bootstrap"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(slurp(dest_ / "pkg/sub/mod.py"), "X = 1\n");
  EXPECT_EQ(slurp(dest_ / "implied/parents/data.json"), "{}");
  EXPECT_EQ(perm_of(dest_), 0755u);
  EXPECT_EQ(perm_of(dest_ / "bootstrap"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "handler.py"), 0644u);
  EXPECT_EQ(perm_of(dest_ / "pkg/__init__.py"), 0644u);
  EXPECT_EQ(perm_of(dest_ / "pkg/sub/mod.py"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "pkg"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "pkg/sub"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "implied"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "implied/parents"), 0755u);
  struct stat st {};
  ASSERT_EQ(::stat((dest_ / "handler.py").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1600000000);
}

TEST_F(ZipPackageTest, StoredEntriesAndAUmaskDoNotChangeModes) {
  mode_t old = ::umask(077);
  auto r = unpack_zip(make_zip({file("a/run", "x", 0755), file("a/doc", "y")}, /*deflate=*/false), dest_);
  ::umask(old);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(perm_of(dest_), 0755u);
  EXPECT_EQ(perm_of(dest_ / "a"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "a/run"), 0755u);
  EXPECT_EQ(perm_of(dest_ / "a/doc"), 0644u);
}

TEST_F(ZipPackageTest, OverTheSizeLimitIsRefusedAndNothingRemains) {
  std::string zip = make_zip({file("small", "x"), file("zeros", std::string(1 << 20, '\0'))});
  ASSERT_LT(zip.size(), 10000u);  // deflate made it small
  expect_refused(zip, "Unzipped size must be smaller than 102400 bytes", {.max_unzipped_bytes = 100 << 10});
}

TEST_F(ZipPackageTest, SizeIsCountedFromDecompressedBytesNotFromHeaders) {
  std::string zip = make_zip({file("zeros", std::string(1 << 20, '\0'))});
  lie_about_size(zip, 0, 10);
  expect_refused(zip, "Unzipped size must be smaller than 102400 bytes", {.max_unzipped_bytes = 100 << 10});
}

TEST_F(ZipPackageTest, ExactlyTheLimitIsAllowed) {
  std::string zip = make_zip({file("a", std::string(600, 'a')), file("b", std::string(400, 'b'))});
  auto r = unpack_zip(zip, dest_, {.max_unzipped_bytes = 1000});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->unzipped_bytes, 1000u);
}

TEST_F(ZipPackageTest, DotDotEntryIsRefused) {
  expect_refused(make_zip({file("ok.py", "1"), file("../evil", "pwned")}),
                 "Could not unzip uploaded file: the entry '../evil' would be written outside the function's "
                 "directory");
  EXPECT_FALSE(fs::exists(dir_ / "functions" / "evil"));
  expect_refused(make_zip({file("a/../../evil", "pwned")}),
                 "Could not unzip uploaded file: the entry 'a/../../evil' would be written outside the "
                 "function's directory");
}

TEST_F(ZipPackageTest, AbsoluteEntryIsRefused) {
  expect_refused(make_zip({file("/etc/x", "pwned")}),
                 "Could not unzip uploaded file: the entry '/etc/x' would be written outside the function's "
                 "directory");
  EXPECT_FALSE(fs::exists("/etc/x"));
}

TEST_F(ZipPackageTest, LongNamesAreCutInMessages) {
  std::string name = "../" + std::string(300, 'n');
  auto r = unpack_zip(make_zip({file(name, "x")}), dest_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Could not unzip uploaded file: the entry '" + name.substr(0, 200) +
                                   "…' would be written outside the function's directory");
}

TEST_F(ZipPackageTest, EscapingSymlinksAreRefused) {
  const std::string msg = "Could not unzip uploaded file: the entry 'lib' would be written outside the function's "
                          "directory";
  expect_refused(make_zip({link("lib", "../../etc"), file("lib/passwd", "pwned")}), msg);
  expect_refused(make_zip({link("lib", "/etc")}), msg);
  expect_refused(make_zip({link("lib", "..")}), msg);
  expect_refused(make_zip({link("lib", "a/../../b")}), msg);
  expect_refused(make_zip({link("a/b/lib", "../../../x")}),
                 "Could not unzip uploaded file: the entry 'a/b/lib' would be written outside the function's "
                 "directory");
}

TEST_F(ZipPackageTest, SymlinksInsideAreKept) {
  auto r = unpack_zip(make_zip({
                          file("lib/libfoo.so.1", "ELF"),
                          link("lib/libfoo.so", "libfoo.so.1"),
                          link("bin/foo", "../lib/./libfoo.so"),
                          link("a/b/top", "../.."),
                          link("here", "."),
                      }),
                      dest_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 1u);
  EXPECT_EQ(fs::read_symlink(dest_ / "lib/libfoo.so"), "libfoo.so.1");
  EXPECT_EQ(fs::read_symlink(dest_ / "bin/foo"), "../lib/libfoo.so");
  EXPECT_EQ(fs::read_symlink(dest_ / "a/b/top"), "../..");
  EXPECT_EQ(slurp(dest_ / "bin/foo"), "ELF");
  EXPECT_EQ(fs::canonical(dest_ / "a/b/top"), fs::canonical(dest_));
}

TEST_F(ZipPackageTest, SymlinkTargetsAreStoredInNormalForm) {
  // "t -> s/.." would reach the parent of the code dir once "s -> ." exists; stored as "." it cannot.
  auto r = unpack_zip(make_zip({link("t", "s/.."), link("s", "."), link("d/u", "x/../../y")}), dest_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(fs::read_symlink(dest_ / "t"), ".");
  EXPECT_EQ(fs::read_symlink(dest_ / "d/u"), "../y");
  EXPECT_EQ(fs::canonical(dest_ / "t"), fs::canonical(dest_));
}

TEST_F(ZipPackageTest, NothingIsWrittenThroughASymlink) {
  // Even a symlink that points inside may not carry later entries: they could be steered with it.
  expect_refused(make_zip({dir("real/"), link("lib", "real"), file("lib/x", "1")}),
                 "Could not unzip uploaded file: the entry 'lib/x' needs a directory 'lib' where an earlier "
                 "entry put a file or symlink");
  expect_refused(make_zip({file("f", "1"), file("f/x", "1")}),
                 "Could not unzip uploaded file: the entry 'f/x' needs a directory 'f' where an earlier entry "
                 "put a file or symlink");
}

TEST_F(ZipPackageTest, DuplicateEntriesAreRefused) {
  const std::string msg = "Could not unzip uploaded file: the entry 'a' is in the archive more than once";
  expect_refused(make_zip({file("a", "1"), file("a", "2")}), msg);
  expect_refused(make_zip({link("a", "b"), file("a", "2")}), msg);
  expect_refused(make_zip({dir("a/"), file("a", "2")}), msg);
  expect_refused(make_zip({file("a", "1"), dir("a/")}),
                 "Could not unzip uploaded file: the entry 'a/' needs a directory 'a' where an earlier entry put "
                 "a file or symlink");
  // A directory named again is fine.
  auto r = unpack_zip(make_zip({file("d/x", "1"), dir("d/"), dir("d/")}), dest_);
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST_F(ZipPackageTest, DevicesAndSocketsAreRefused) {
  std::string dev = make_zip({file("ok", "1"), file("null", "")});
  set_unix_mode(dev, 1, S_IFCHR | 0666);
  expect_refused(dev,
                 "Could not unzip uploaded file: the entry 'null' is a character device; only files, directories "
                 "and symlinks are allowed");
  std::string blk = make_zip({file("sda", "")});
  set_unix_mode(blk, 0, S_IFBLK | 0660);
  expect_refused(blk,
                 "Could not unzip uploaded file: the entry 'sda' is a block device; only files, directories and "
                 "symlinks are allowed");
  std::string sock = make_zip({file("sock", "")});
  set_unix_mode(sock, 0, S_IFSOCK | 0644);
  expect_refused(sock,
                 "Could not unzip uploaded file: the entry 'sock' is a socket; only files, directories and "
                 "symlinks are allowed");
}

TEST_F(ZipPackageTest, FifoModeBecomesARegularFile) {
  // What `zip -FI` stores for data read from a pipe; libarchive reads it as a file, and so do we.
  std::string zip = make_zip({file("pipe", "through a pipe", 0755)});
  set_unix_mode(zip, 0, S_IFIFO | 0644);
  auto r = unpack_zip(zip, dest_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dest_ / "pipe")));
  EXPECT_EQ(slurp(dest_ / "pipe"), "through a pipe");
  EXPECT_EQ(perm_of(dest_ / "pipe"), 0644u);
}

TEST_F(ZipPackageTest, Utf8NamesAreKeptInTheCLocale) {
  // The test runs in the C locale, as the server does.
  std::string zip = make_zip({file("caf\xc3\xa9/na\xc3\xafve.py", "1"), link("l\xc3\xa9", "caf\xc3\xa9")});
  for (bool flagged : {false, true}) {
    if (flagged) {
      flag_utf8_names(zip);
      fs::remove_all(dest_);
    }
    auto r = unpack_zip(zip, dest_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(slurp(dest_ / "caf\xc3\xa9/na\xc3\xafve.py"), "1");
    EXPECT_EQ(fs::read_symlink(dest_ / "l\xc3\xa9"), "caf\xc3\xa9");
  }
}

TEST_F(ZipPackageTest, NotAZipIsRefused) {
  expect_refused("this is not a zip file at all, just some bytes that a client sent", kCorrupt);
  expect_refused("", kCorrupt);
  std::string zip = make_zip({file("a.py", std::string(5000, 'a')), file("b.py", "b")});
  expect_refused(zip.substr(0, zip.size() / 2), kCorrupt);
  std::string bad_crc = make_zip({file("a.py", "hello world")}, /*deflate=*/false);
  bad_crc[bad_crc.find("hello world")] = 'j';
  expect_refused(bad_crc, kCorrupt);
}

TEST_F(ZipPackageTest, ExistingDestIsAnErrorAndIsLeftAlone) {
  fs::create_directories(dest_);
  std::ofstream(dest_ / "keep") << "mine";
  auto r = unpack_zip(make_zip({file("a", "1")}), dest_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kLambdaService);
  EXPECT_NE(r.error().message.find("File exists"), std::string::npos) << r.error().message;
  EXPECT_EQ(slurp(dest_ / "keep"), "mine");
  EXPECT_FALSE(fs::exists(dest_ / "a"));
}

TEST_F(ZipPackageTest, EmptyZipMakesAnEmptyDirectory) {
  std::string zip = make_zip({});
  ASSERT_EQ(zip.size(), 22u);  // just the end-of-central-directory record
  auto r = unpack_zip(zip, dest_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, 0u);
  EXPECT_EQ(r->unzipped_bytes, 0u);
  EXPECT_TRUE(fs::is_directory(dest_));
  EXPECT_TRUE(fs::is_empty(dest_));
}

TEST_F(ZipPackageTest, TooManyEntriesAreRefused) {
  expect_refused(make_zip({file("a", "1"), file("b", "2"), file("c", "3")}),
                 "Could not unzip uploaded file: the archive has more than 2 entries", {.max_entries = 2});
}

TEST(CodeSha256Test, IsBase64OfSha256) {
  EXPECT_EQ(code_sha256("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(code_sha256(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

}  // namespace
}  // namespace gantry::image
