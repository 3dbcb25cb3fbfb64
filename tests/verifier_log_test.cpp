// The verifier's complaint is distilled to its reason and the filter source line.
#include <gtest/gtest.h>

#include <sluice/bpf_program.hpp>

namespace sluice {
namespace {

// A real log tail from this kernel (6.18), for a filter that forgot a NULL check.
constexpr const char* kLog =
    "func#3 @101\n"
    "0: R1=ctx() R10=fp0\n"
    "; c = SLUICE_BYTE(w, start + i); @ compare.h:172\n"
    "425: (bc) w4 = w2                     ; R2=scalar() R4=scalar(smin=0,smax=umax=0xffffffff)\n"
    "427: (54) w4 &= 131071                ; R4=scalar(smin=smin32=0,smax=umax=smax32=umax32=0x1ffff)\n"
    "428: (bf) r7 = r1                     ; R1=mem_or_null(id=64,sz=0x20040) R7=mem_or_null(id=64,sz=0x20040)\n"
    "429: (0f) r7 += r4\n"
    "R7 pointer arithmetic on mem_or_null prohibited, null-check it first\n"
    "processed 735 insns (limit 1000000) max_states_per_insn 3 total_states 42 peak_states 42 mark_read 0\n";

TEST(VerifierLog, ReasonAndSourceLine) {
  VerifierComplaint c = summarize_verifier_log(kLog);
  EXPECT_EQ(c.reason, "R7 pointer arithmetic on mem_or_null prohibited, null-check it first");
  EXPECT_EQ(c.source_location, "compare.h:172");
  EXPECT_EQ(c.source_line, "c = SLUICE_BYTE(w, start + i);");
}

TEST(VerifierLog, EmptyLogStillGivesAReason) {
  VerifierComplaint c = summarize_verifier_log("");
  EXPECT_FALSE(c.reason.empty());
  EXPECT_TRUE(c.source_location.empty());
}

}  // namespace
}  // namespace sluice
