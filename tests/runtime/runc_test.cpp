#include "runtime/runc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <mutex>

#include "runtime/fake_os.h"

namespace gantry::runtime {
namespace {

using Argv = std::vector<std::string>;

std::string arg_after(const Argv& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it != argv.end() && it + 1 != argv.end() ? *(it + 1) : "";
}

bool has_word(const Argv& argv, const std::string& word) {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

// A fake runc: `create` writes the pid file and "prints" the container's output into the pipes it was
// given (as the real container would, since it inherits them), the other commands succeed.
struct FakeRunc {
  explicit FakeRunc(FakeOs& os) : os(os) {
    os.set_script([this](const Argv& argv) { return handle(argv); });
  }
  FakeOs::Process handle(const Argv& argv) {
    if (has_word(argv, "create") || has_word(argv, "run")) {
      if (create_fails) return FakeOs::Process{1 << 8, "", "container init failed: exec: \"nope\": not found\n"};
      if (write_pid) (void)os.write_file(arg_after(argv, "--pid-file"), "4242\n");
      if (init_is_our_child) os.set_wait_status(4242, init_wait_status);
      return FakeOs::Process{0, container_out, container_err};
    }
    if (has_word(argv, "start") && start_fails)
      return FakeOs::Process{1 << 8, "", "cannot start a stopped container\n"};
    if (has_word(argv, "state")) return FakeOs::Process{0, state_json, ""};
    if (has_word(argv, "delete") && delete_fails) return FakeOs::Process{1 << 8, "", "container is running\n"};
    return FakeOs::Process{0, "", ""};
  }
  FakeOs& os;
  bool create_fails = false;
  bool start_fails = false;
  bool delete_fails = false;
  bool write_pid = true;
  bool init_is_our_child = true;
  int init_wait_status = 0;
  std::string container_out;
  std::string container_err;
  std::string state_json;
};

struct Collected {
  std::mutex mu;
  std::vector<std::string> out;
  std::vector<std::string> err;
  LineSink sink() {
    return [this](bool is_stderr, std::string line) {
      std::lock_guard lock(mu);
      (is_stderr ? err : out).push_back(std::move(line));
    };
  }
};

class RuncDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = RuncDriver::create(os_, RuncOptions{"/usr/bin/runc", "/run/gantry-runc"});
    ASSERT_TRUE(d.ok());
    driver_ = std::move(*d);
    ASSERT_TRUE(driver_->write_bundle("/data/tasks/t1/app", "{}").ok());
  }
  FakeOs os_;
  FakeRunc runc_{os_};
  std::unique_ptr<RuncDriver> driver_;
};

TEST_F(RuncDriverTest, CreateMakesUsASubreaperAndWritesTheBundle) {
  EXPECT_TRUE(os_.is_subreaper());
  EXPECT_EQ(os_.file("/data/tasks/t1/app/config.json"), "{}");
}

TEST_F(RuncDriverTest, RunStreamsLinesAndReturnsTheExitCode) {
  runc_.container_out = "hello\nworld\n";
  runc_.container_err = "err\n";
  runc_.init_wait_status = 3 << 8;
  Collected c;
  bool exited = false;
  auto outcome = run_container(*driver_, "c1", "/data/tasks/t1/app", c.sink(), [&](const ExitStatus& s) {
    exited = true;
    EXPECT_EQ(s.exit_code, 3);
  });
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(exited);
  EXPECT_EQ(outcome->exit, (ExitStatus{3, std::nullopt}));
  EXPECT_EQ(outcome->pid, 4242);
  EXPECT_EQ(c.out, (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(c.err, (std::vector<std::string>{"err"}));
  auto cmds = os_.commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0], (Argv{"/usr/bin/runc", "--root", "/run/gantry-runc", "--log", "/data/tasks/t1/app/runc.log",
                           "--log-format", "json", "run", "--detach", "--bundle", "/data/tasks/t1/app", "--pid-file",
                           "/data/tasks/t1/app/init.pid", "c1"}));
  EXPECT_EQ(cmds[1], (Argv{"/usr/bin/runc", "--root", "/run/gantry-runc", "delete", "--force", "c1"}));
}

TEST_F(RuncDriverTest, KilledBySignalIs128PlusSignal) {
  runc_.init_wait_status = SIGKILL;  // waitpid form of "terminated by signal 9"
  Collected c;
  auto outcome = run_container(*driver_, "c1", "/data/tasks/t1/app", c.sink());
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->exit, (ExitStatus{137, SIGKILL}));
}

TEST_F(RuncDriverTest, CreateFailureCarriesCommandStatusStderrAndLog) {
  runc_.create_fails = true;
  os_.add_file("/data/tasks/t1/app/runc.log",
               "{\"level\":\"warning\",\"msg\":\"ignored\"}\n"
               "{\"level\":\"error\",\"msg\":\"runc create failed: unable to start container process\"}\n");
  auto created = driver_->create_container("c1", "/data/tasks/t1/app");
  ASSERT_FALSE(created.ok());
  const auto& e = created.error();
  EXPECT_EQ(e.kind, ErrorKind::kRuntimeOciFailed);
  EXPECT_NE(e.message.find("/usr/bin/runc --root /run/gantry-runc --log"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("create --bundle /data/tasks/t1/app"), std::string::npos);
  EXPECT_NE(e.message.find("exit status 1"), std::string::npos);
  EXPECT_NE(e.message.find("exec: \"nope\": not found"), std::string::npos);
  EXPECT_NE(e.message.find("log: runc create failed: unable to start container process"), std::string::npos);
  EXPECT_EQ(e.message.find("ignored"), std::string::npos);
  auto cmds = os_.commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_TRUE(has_word(cmds[1], "delete")) << "a half-created container is cleaned up";
}

TEST_F(RuncDriverTest, CreateWithoutPidFileIsAnError) {
  runc_.write_pid = false;
  auto created = driver_->create_container("c1", "/data/tasks/t1/app");
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("wrote no pid to /data/tasks/t1/app/init.pid"), std::string::npos);
}

TEST_F(RuncDriverTest, CreateThenStart) {
  runc_.container_out = "hi\n";
  runc_.init_wait_status = 0;
  auto c = driver_->create_container("c1", "/data/tasks/t1/app");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->pid, 4242);
  ASSERT_TRUE(driver_->start("c1").ok());
  auto line = c->stdout_lines->next_line();
  ASSERT_TRUE(line.ok() && line->has_value());
  EXPECT_EQ(**line, "hi");
  auto exit = driver_->wait(*c);
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->exit_code, 0);
  auto cmds = os_.commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0][7], "create");
  EXPECT_EQ(cmds[1], (Argv{"/usr/bin/runc", "--root", "/run/gantry-runc", "start", "c1"}));
}

TEST_F(RuncDriverTest, StartFailureCarriesStderr) {
  runc_.start_fails = true;
  auto st = driver_->start("c1");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kRuntimeOciFailed);
  EXPECT_EQ(st.error().message,
            "/usr/bin/runc --root /run/gantry-runc start c1: exit status 1: cannot start a stopped container");
}

TEST_F(RuncDriverTest, DeleteFailureIsReportedAfterTheRun) {
  runc_.delete_fails = true;
  Collected c;
  auto outcome = run_container(*driver_, "c1", "/data/tasks/t1/app", c.sink());
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find("delete --force c1: exit status 1: container is running"), std::string::npos);
}

TEST_F(RuncDriverTest, WaitFailureKillsTheContainerSoReadersFinish) {
  runc_.init_is_our_child = false;  // e.g. the process lost its subreaper status
  Collected c;
  auto outcome = run_container(*driver_, "c1", "/data/tasks/t1/app", c.sink());
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().message.find("waitpid pid 4242: No child processes"), std::string::npos)
      << outcome.error().message;
  auto cmds = os_.commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_TRUE(has_word(cmds[1], "delete"));
}

TEST_F(RuncDriverTest, StateKillAndRemove) {
  runc_.state_json =
      R"({"ociVersion":"1.0.2-dev","id":"c1","pid":4242,"status":"running","bundle":"/data/tasks/t1/app",)"
      R"("rootfs":"/data/tasks/t1/app/rootfs","created":"2024-01-01T00:00:00Z","owner":""})";
  auto s = driver_->state("c1");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->status, "running");
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->bundle, "/data/tasks/t1/app");
  ASSERT_TRUE(driver_->kill("c1", SIGTERM).ok());
  ASSERT_TRUE(driver_->kill("c1", SIGKILL, true).ok());
  ASSERT_TRUE(driver_->remove("c1").ok());
  auto cmds = os_.commands();
  EXPECT_EQ(cmds[1], (Argv{"/usr/bin/runc", "--root", "/run/gantry-runc", "kill", "c1", "15"}));
  EXPECT_EQ(cmds[2], (Argv{"/usr/bin/runc", "--root", "/run/gantry-runc", "kill", "--all", "c1", "9"}));
  EXPECT_EQ(cmds[3], (Argv{"/usr/bin/runc", "--root", "/run/gantry-runc", "delete", "--force", "c1"}));
}

TEST_F(RuncDriverTest, RuncThatCannotStartIsASystemError) {
  os_.fail_next("run", "/usr/bin/runc", ENOENT);
  auto s = driver_->state("c1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kRuntimeSystem);
}

TEST(ParseContainerState, RejectsOtherOutput) {
  EXPECT_FALSE(parse_container_state("").ok());
  EXPECT_FALSE(parse_container_state("{\"id\":\"x\"}").ok());
  auto e = parse_container_state("container does not exist");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kRuntimeOciFailed);
}

TEST(LineReader, SplitsLinesKeepsTheLastPartialOneAndCutsHugeLines) {
  PosixOs os;
  auto p = os.make_pipe();
  ASSERT_TRUE(p.ok());
  std::string data = "one\n\nthree\r\n" + std::string(LineReader::kMaxLine + 10, 'x') + "\ntail";
  std::thread writer([&] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(p->write_fd, data.data() + off, std::min<size_t>(7000, data.size() - off));
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
    ::close(p->write_fd);
  });
  LineReader reader(os, p->read_fd);
  std::vector<std::string> lines;
  for (;;) {
    auto line = reader.next_line();
    ASSERT_TRUE(line.ok());
    if (!line->has_value()) break;
    lines.push_back(**line);
  }
  writer.join();
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "one");
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(lines[2], "three\r");
  EXPECT_EQ(lines[3].size(), LineReader::kMaxLine);
  EXPECT_EQ(lines[4], std::string(10, 'x'));
  EXPECT_EQ(lines[5], "tail");
}

TEST(ExitStatus, FromWaitStatus) {
  EXPECT_EQ(exit_status_from_wait(0), (ExitStatus{0, std::nullopt}));
  EXPECT_EQ(exit_status_from_wait(3 << 8), (ExitStatus{3, std::nullopt}));
  EXPECT_EQ(exit_status_from_wait(SIGKILL), (ExitStatus{137, SIGKILL}));
  EXPECT_EQ(exit_status_from_wait(SIGTERM), (ExitStatus{143, SIGTERM}));
}

TEST(CommandLine, QuotesWhatNeedsIt) {
  EXPECT_EQ(command_line({"runc", "kill", "c1", "9"}), "runc kill c1 9");
  EXPECT_EQ(command_line({"sh", "-c", "echo 'hi' there", ""}), "sh -c 'echo '\\''hi'\\'' there' ''");
}

TEST(PosixOsRun, CapturesBothStreamsAndTheStatus) {
  PosixOs os;
  auto r = os.run({"/bin/sh", "-c", "echo out; echo err >&2; exit 4"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(exit_status_from_wait(r->wait_status).exit_code, 4);
  auto missing = os.run({"/nonexistent/runc", "state", "x"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kRuntimeSystem);
  EXPECT_NE(missing.error().message.find("/nonexistent/runc"), std::string::npos);
}

}  // namespace
}  // namespace gantry::runtime
