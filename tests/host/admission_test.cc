// Admission's accounting: tickets take a share of the budget and give it back
// when they go (moved ones once), refusals name their reason.
#include "host/invoke/admission.h"

#include <gtest/gtest.h>

namespace wick::invoke {
namespace {

TEST(Admission, TicketsHoldTheirShareUntilTheyGo) {
  Admission admission({.memory_mb = 512, .vcpus = 0});
  auto first = admission.tryAdmit(256, 0.14);
  auto second = admission.tryAdmit(256, 0.14);
  ASSERT_TRUE(std::holds_alternative<Admission::Ticket>(first));
  ASSERT_TRUE(std::holds_alternative<Admission::Ticket>(second));
  EXPECT_EQ(admission.committed().memory_mb, 512u);
  auto third = admission.tryAdmit(1, 0);
  ASSERT_TRUE(std::holds_alternative<Admission::Refusal>(third));
  EXPECT_EQ(std::get<Admission::Refusal>(third).reason, "HostMemoryBudgetExceeded");
  EXPECT_NE(std::get<Admission::Refusal>(third).message.find("512 of 512 MB"), std::string::npos);

  Admission::Ticket moved = std::move(std::get<Admission::Ticket>(first));
  first = Admission::Ticket();  // the moved-from ticket gives nothing back
  EXPECT_EQ(admission.committed().memory_mb, 512u);
  moved.release();
  moved.release();  // once
  EXPECT_EQ(admission.committed().memory_mb, 256u);
  EXPECT_TRUE(std::holds_alternative<Admission::Ticket>(admission.tryAdmit(256, 0)));
}

TEST(Admission, VcpuBudgetAndLiveChanges) {
  Admission admission({.memory_mb = 0, .vcpus = 1.0});  // memory unlimited
  auto one = admission.tryAdmit(1769, 1.0);
  ASSERT_TRUE(std::holds_alternative<Admission::Ticket>(one)) << "exactly the budget fits";
  auto two = admission.tryAdmit(128, 0.07);
  ASSERT_TRUE(std::holds_alternative<Admission::Refusal>(two));
  EXPECT_EQ(std::get<Admission::Refusal>(two).reason, "HostCpuOvercommitExceeded");
  admission.setBudget({.memory_mb = 0, .vcpus = 2.0});
  EXPECT_TRUE(std::holds_alternative<Admission::Ticket>(admission.tryAdmit(128, 0.07)));
  admission.setBudget({.memory_mb = 100, .vcpus = 0});  // lowered below what is held
  EXPECT_TRUE(std::holds_alternative<Admission::Refusal>(admission.tryAdmit(1, 0)));
  admission.countRefusal("HostMemoryBudgetExceeded");
  admission.countReclaimed();
  EXPECT_EQ(admission.refusals().at("HostMemoryBudgetExceeded"), 1u);
  EXPECT_EQ(admission.reclaimed(), 1u);
}

TEST(Admission, HostMemoryIsReadFromProc) {
  EXPECT_GT(hostMemoryMb(), 64u);
}

}  // namespace
}  // namespace wick::invoke
