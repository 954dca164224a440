#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The packet log (LOG target) to its own destinations (log.packets):
#   - every LOG line, in the kernel's format, is appended to the file, at
#     any --log-level (debug too: not filtered by the daemon's log.level)
#   - and sent to syslog with the configured facility (local3): the test
#     listens on a socket bind-mounted over /dev/log in rampartd's own mount
#     namespace, so the machine's syslog is never touched
#   - after the file is moved away (log rotation), SIGHUP opens it again
#   - the daemon log no longer carries the packet lines
#   - NFLOG: group 5's packets in a pcap file tcpdump reads, group 6's
#     streamed live into a FIFO that tcpdump reads; LINKTYPE_NFLOG records
#     with the prefix, the mark (set in mangle) and the ports
. "$(dirname "$0")/lib.sh"

e2e_init l
require_cmd unshare
topo_up

LOGSOCK=$E2E_TMP/devlog.sock
bg syslogd "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
f = open(sys.argv[2], "ab", 0)
while True:
    f.write(s.recv(8192) + b"\n")
' "$LOGSOCK" "$E2E_TMP/syslog.out"
wait_for "the syslog listener" 5 test -S "$LOGSOCK" || die "no syslog listener"
# a mount point for the bind mount, if the machine has no /dev/log
CREATED=0
if [ ! -e /dev/log ]; then
	: >/dev/log || die "cannot create the /dev/log mount point"
	CREATED=1
fi
trap 'rc=$?; [ "$CREATED" = 1 ] && rm -f /dev/log; (exit $rc); e2e_cleanup' EXIT
WRAP=$E2E_TMP/rampartd-ns
cat >"$WRAP" <<EOF
#!/bin/sh
# rampartd in a mount namespace of its own where /dev/log is the test's socket
exec unshare -m --propagation private sh -c 'mount --bind "$LOGSOCK" /dev/log && exec "\$0" "\$@"' "$RAMPARTD" "\$@"
EOF
chmod +x "$WRAP"

RULES=$E2E_TMP/log.rules
cat >"$RULES" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i lan0 -p icmp -j LOG --log-prefix "rp-fwd: " --log-level 7
-A FORWARD -i lan0 -p icmp -j NFLOG --nflog-prefix "cap" --nflog-group 5
-A FORWARD -i wan0 -p icmp -j NFLOG --nflog-group 6 --nflog-size 64
COMMIT
*mangle
:FORWARD ACCEPT [0:0]
-A FORWARD -i lan0 -p icmp -j MARK --set-mark 0x2a
COMMIT
EOF
CFG=$E2E_TMP/rampart.yaml
PKT=$E2E_TMP/packets.log
gen_config "$CFG" router 1
cat >>"$CFG" <<YAML
ruleset:
  file: $RULES
YAML
NFDIR=$E2E_TMP/nflog
mkdir -p "$NFDIR"
mkfifo "$NFDIR/nflog-6.pcap" # group 6 streams to a reader
sed -i "s|^log: {level: info}|log: {level: info, packets: {syslog: local3, file: $PKT}, nflog: {dir: $NFDIR}}|" "$CFG"
grep -q 'packets: {syslog: local3' "$CFG" || die "gen_config's log line changed: fix this test"
rp_start "$CFG" "$WRAP"
bg fiforeader tcpdump -n -r "$NFDIR/nflog-6.pcap"

T_PING=$(date +%s)
check "ping lan -> wan (logged)" in_lan ping -c 2 -i 0.2 -W 2 10.77.2.2
wait_for "the packet log file has the LOG lines" 5 grep -q 'rp-fwd: IN=lan0 OUT=wan0 ' "$PKT"
assert_file_match "the file: the kernel's format" \
	'Z rp-fwd: IN=lan0 OUT=wan0 MAC=[0-9a-f:]+ SRC=10\.77\.1\.2 DST=10\.77\.2\.2 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=[0-9]+ (DF )?PROTO=ICMP TYPE=8 CODE=0 ID=[0-9]+ SEQ=1 MARK=0x2a ?$' "$PKT"
wait_for "syslog got them" 5 grep -q 'rp-fwd: IN=lan0' "$E2E_TMP/syslog.out"
# <PRI> = facility local3 (19) * 8 + level debug (7) = 159
assert_file_match "syslog: facility local3, level debug" '^<159>.*rampartd\[[0-9]+\]: rp-fwd: IN=lan0 OUT=wan0 ' "$E2E_TMP/syslog.out"
assert_file_nomatch "the daemon log does not carry them" 'rp-fwd: IN=' "$RP_LOG"

mv "$PKT" "$PKT.1"
kill -HUP "$RP_PID"
wait_for "SIGHUP handled" 5 grep -q 'SIGHUP: ruleset reloaded' "$RP_LOG"
check "ping lan -> wan again" in_lan ping -c 1 -W 2 10.77.2.2
wait_for "a new packet log file after SIGHUP" 5 grep -q 'rp-fwd: IN=lan0' "$PKT"
assert_eq "the rotated file kept its two lines" 2 "$(grep -c 'rp-fwd: ' "$PKT.1")"
check "a big ping lan -> wan (1400 bytes of data)" in_lan ping -c 1 -s 1400 -W 2 10.77.2.2

rp_stop
# NFLOG: group 5 in a pcap file, group 6 streamed into the FIFO's reader
out=$(tcpdump -n -r "$NFDIR/nflog-5.pcap" 2>&1)
log "nflog-5.pcap: $(tr '\n' '|' <<<"$out")"
assert_eq "NFLOG group 5: the 4 echo requests in the capture" 4 \
	"$(grep -c 'IP 10\.77\.1\.2 > 10\.77\.2\.2: ICMP echo request' <<<"$out")"
assert_match "NFLOG group 5: the big one whole (1428 bytes, as the kernel's NFLOG copies it)" \
	'ICMP echo request, id [0-9]+, seq 1, length 1408' "$out"
# the records as LINKTYPE_NFLOG (what tcpdump -i nflog:5 writes from the
# kernel): header, then attributes (length and type in host order, values
# in network order); the payload's captured and original lengths, the
# prefix, the mark, the ports, the hook
big=$("$PY" - "$NFDIR/nflog-5.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert struct.unpack_from("<I", d, 20)[0] == 239, "link type is not NFLOG"
off, out = 24, []
while off + 16 <= len(d):
    _, _, incl, orig = struct.unpack_from("<IIII", d, off)
    r = d[off + 16:off + 16 + incl]
    fam, ver, group = r[0], r[1], struct.unpack_from(">H", r, 2)[0]
    a, f = 4, {}
    while a + 4 <= len(r):
        l, t = struct.unpack_from("<HH", r, a)
        if l < 4:
            break
        f[t] = r[a + 4:a + l]
        a += (l + 3) & ~3
    assert len(f[1]) == 4, "the packet header attribute is 8 bytes, as the kernel's"
    pay = f.get(9, b"")
    head = incl - len(pay) - (((len(pay) + 3) & ~3) - len(pay))
    out.append("%d/%d,fam=%d,ver=%d,group=%d,hook=%d,prefix=%s,mark=%s,in=%s,out=%s" % (
        len(pay), orig - head, fam, ver, group, f[1][2],
        f.get(10, b"").rstrip(b"\0").decode(), f[2].hex() if 2 in f else "-",
        struct.unpack(">I", f[4])[0] if 4 in f else "-",
        struct.unpack(">I", f[5])[0] if 5 in f else "-"))
    off += 16 + incl
print(" ".join(out))
PY
)
log "nflog-5.pcap records: $big"
assert_match "NFLOG group 5: the big packet captured whole, not cut at the record's 160 bytes" "(^| )1428/1428," "$big"
assert_match "NFLOG group 5: family, group, hook FORWARD, prefix, mark, ports (lan0 = 1, wan0 = 2)" \
	"^84/84,fam=2,ver=0,group=5,hook=2,prefix=cap,mark=0000002a,in=1,out=2 " "$big"
# the records carry the packets' own times: the first two 0.2 s apart, when pinged
tcpdump -tt -n -r "$NFDIR/nflog-5.pcap" 2>/dev/null | head -2 | awk '{print $1}' >"$E2E_TMP/ts"
gap=$(awk 'NR == 1 {a = $1} NR == 2 {printf "%d", ($1 - a) * 1000}' "$E2E_TMP/ts")
first=$(head -1 "$E2E_TMP/ts" | cut -d. -f1)
assert_ge "NFLOG timestamps: the pings' 200 ms spacing (ms)" "${gap:-0}" 150
assert_le "NFLOG timestamps: ... not more (ms)" "${gap:-9999}" 400
assert_le "NFLOG timestamps: the time of the ping (s off)" "$(( ${first:-0} - T_PING < 0 ? T_PING - ${first:-0} : ${first:-0} - T_PING ))" 3
wait_for "the FIFO's reader saw the stream end" 5 sh -c "! kill -0 $BG_PID 2>/dev/null"
assert_eq "NFLOG group 6: the 4 echo replies, read live from the FIFO" 4 \
	"$(grep -c 'IP 10\.77\.2\.2 > 10\.77\.1\.2: ICMP echo reply' "$E2E_TMP/fiforeader.log")"
e2e_finish
