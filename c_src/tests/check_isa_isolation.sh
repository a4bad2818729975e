#!/usr/bin/env bash
# Fails if any function in BINARY uses AVX registers (ymm/zmm) outside the
# avx2/avx512 kernel namespaces: such a function could be an inline picked by
# the linker from a wider unit and would crash the baseline path on an older CPU.
set -euo pipefail
binary="$1"
offenders=$(objdump -d --no-show-raw-insn -C "$binary" | awk '
  /^[0-9a-f]+ <.*>:$/ { name = $0; next }
  /%[yz]mm[0-9]/ && name !~ /::avx2::|::avx512::/ { print name }
' | sort -u)
if [ -n "$offenders" ]; then
  echo "AVX instructions outside the ISA namespaces:"
  echo "$offenders"
  exit 1
fi
echo "no AVX code outside analytics::kernels::avx2 / avx512 in $binary"
