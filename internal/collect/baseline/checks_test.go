package baseline

import (
	"slices"
	"testing"
)

// failing makes each built-in check fail on the hardened fixture host,
// on which every one passes. TestEveryCheck requires an entry for every
// check in checks.json, so a new check cannot ship untested.
var failing = map[string]mutation{
	"etc-passwd-mode":               chmod("etc/passwd", 0o664),
	"etc-group-mode":                chown("etc/group", 0, 4),
	"etc-shadow-mode":               chmod("etc/shadow", 0o644),
	"etc-gshadow-mode":              chown("etc/gshadow", 1000, 0),
	"etc-passwd-backup-mode":        chmod("etc/passwd-", 0o666),
	"etc-group-backup-mode":         chmod("etc/group-", 0o646),
	"etc-shadow-backup-mode":        chmod("etc/shadow-", 0o604),
	"etc-gshadow-backup-mode":       chmod("etc/gshadow-", 0o660),
	"sshd-config-mode":              chmod("etc/ssh/sshd_config", 0o644),
	"anacrontab-mode":               chmod("etc/anacrontab", 0o644),
	"crontab-mode":                  chown("etc/crontab", 1000, 1000),
	"grub-cfg-mode":                 chmod("boot/grub/grub.cfg", 0o644),
	"etc-issue-mode":                chmod("etc/issue", 0o666),
	"etc-issue-net-mode":            chmod("etc/issue.net", 0o664),
	"etc-motd-mode":                 chmod("etc/motd", 0o646),
	"syslog-file-mode":              chmod("var/log/syslog", 0o644),
	"cron-hourly-mode":              chmod("etc/cron.hourly", 0o755),
	"cron-daily-mode":               chmod("etc/cron.daily", 0o755),
	"cron-weekly-mode":              chmod("etc/cron.weekly", 0o755),
	"cron-monthly-mode":             chmod("etc/cron.monthly", 0o755),
	"cron-d-mode":                   chmod("etc/cron.d", 0o755),
	"removable-media-nodev":         replace("proc/1/mounts", "vfat rw,nosuid,nodev,noexec", "vfat rw,nosuid,noexec"),
	"removable-media-noexec":        replace("proc/1/mounts", "vfat rw,nosuid,nodev,noexec", "vfat rw,nosuid,nodev"),
	"removable-media-nosuid":        all(replace("proc/1/mounts", "/dev/sdb1", "/dev/sdc"), write("sys/block/sdc/removable", "1\n"), appendLine("proc/1/mounts", "/dev/sdb1 /media/sd vfat rw 0 0")),
	"nfs-nodev-nosuid":              replace("proc/1/mounts", "nfs4 rw,nosuid,nodev", "nfs4 rw,nodev"),
	"tmp-separate-mount":            replace("proc/1/mounts", "tmpfs /tmp ", "tmpfs /var/tmp "),
	"tmp-nodev":                     replace("proc/1/mounts", "/tmp tmpfs rw,nosuid,nodev,noexec", "/tmp tmpfs rw,nosuid,noexec"),
	"tmp-nosuid":                    appendLine("proc/1/mounts", "tmpfs /tmp tmpfs rw,nodev,noexec 0 0"),
	"tmp-noexec":                    replace("proc/1/mounts", "/tmp tmpfs rw,nosuid,nodev,noexec", "/tmp tmpfs rw,nosuid,nodev"),
	"dev-shm-nodev":                 replace("proc/1/mounts", "/dev/shm tmpfs rw,nosuid,nodev,noexec", "/dev/shm tmpfs rw,nosuid,noexec"),
	"dev-shm-nosuid":                replace("proc/1/mounts", "/dev/shm tmpfs rw,nosuid,nodev,noexec", "/dev/shm tmpfs rw,nodev,noexec"),
	"dev-shm-noexec":                replace("proc/1/mounts", "/dev/shm tmpfs rw,nosuid,nodev,noexec", "/dev/shm tmpfs rw,nosuid,nodev"),
	"no-empty-passwords":            replace("etc/shadow", "daemon:*:", "daemon::"),
	"uid0-only-root":                appendLine("etc/passwd", "toor:x:0:0::/root:/bin/sh"),
	"root-group-exists":             replace("etc/group", "root:x:0:", "root:x:10:"),
	"unique-user-names":             appendLine("etc/passwd", "admin:x:1001:1000::/home/admin2:/bin/sh"),
	"unique-gids":                   appendLine("etc/group", "admins:x:1000:"),
	"unique-group-names":            appendLine("etc/group", "admin:x:1001:"),
	"primary-groups-exist":          appendLine("etc/passwd", "svc:x:1002:1002::/:/usr/sbin/nologin"),
	"no-legacy-plus-passwd":         appendLine("etc/passwd", "+::::::"),
	"no-legacy-plus-shadow":         appendLine("etc/shadow", "+::::::::"),
	"no-legacy-plus-group":          appendLine("etc/group", "+:::"),
	"passwd-shadowed":               replace("etc/passwd", "daemon:x:1:", "daemon::1:"),
	"no-games-account":              appendLine("etc/passwd", "games:x:5:60:games:/usr/games:/usr/sbin/nologin"),
	"login-defs-pass-max-days":      replace("etc/login.defs", "PASS_MAX_DAYS   365", "PASS_MAX_DAYS   99999"),
	"login-defs-pass-min-days":      replace("etc/login.defs", "PASS_MIN_DAYS   1", "#PASS_MIN_DAYS   1"),
	"login-defs-pass-warn-age":      replace("etc/login.defs", "PASS_WARN_AGE   7", "PASS_WARN_AGE   seven"),
	"login-defs-encrypt-method":     replace("etc/login.defs", "SHA512", "MD5"),
	"login-defs-umask":              replace("etc/login.defs", "UMASK           027", "UMASK           022"),
	"shadow-max-days":               replace("etc/shadow", ":19700:1:365:7:30::", ":19700:1::7:30::"),
	"shadow-min-days":               replace("etc/shadow", ":19700:1:365:7:30::", ":19700:0:365:7:30::"),
	"shadow-warn-days":              replace("etc/shadow", ":19700:1:365:7:30::", ":19700:1:365:3:30::"),
	"shadow-inactive-days":          replace("etc/shadow", ":19700:1:365:7:30::", ":19700:1:365:7:90::"),
	"aslr-enabled":                  write("proc/sys/kernel/randomize_va_space", "1\n"),
	"ip-forward-disabled":           write("proc/sys/net/ipv4/ip_forward", "1\n"),
	"ipv6-forward-disabled":         write("proc/sys/net/ipv6/conf/all/forwarding", "1\n"),
	"ipv4-all-source-route":         write("proc/sys/net/ipv4/conf/all/accept_source_route", "1\n"),
	"ipv6-all-source-route":         write("proc/sys/net/ipv6/conf/all/accept_source_route", "1\n"),
	"ipv4-default-source-route":     write("proc/sys/net/ipv4/conf/default/accept_source_route", "1\n"),
	"ipv6-default-source-route":     write("proc/sys/net/ipv6/conf/default/accept_source_route", "1\n"),
	"icmp-ignore-bogus":             write("proc/sys/net/ipv4/icmp_ignore_bogus_error_responses", "0\n"),
	"icmp-ignore-broadcasts":        write("proc/sys/net/ipv4/icmp_echo_ignore_broadcasts", "0\n"),
	"rp-filter-all":                 write("proc/sys/net/ipv4/conf/all/rp_filter", "0\n"),
	"rp-filter-default":             write("proc/sys/net/ipv4/conf/default/rp_filter", "0\n"),
	"tcp-syncookies":                write("proc/sys/net/ipv4/tcp_syncookies", "0\n"),
	"ipv4-all-accept-redirects":     write("proc/sys/net/ipv4/conf/all/accept_redirects", "1\n"),
	"ipv4-default-accept-redirects": write("proc/sys/net/ipv4/conf/default/accept_redirects", "1\n"),
	"ipv6-all-accept-redirects":     write("proc/sys/net/ipv6/conf/all/accept_redirects", "1\n"),
	"ipv6-default-accept-redirects": write("proc/sys/net/ipv6/conf/default/accept_redirects", "1\n"),
	"ipv4-all-secure-redirects":     write("proc/sys/net/ipv4/conf/all/secure_redirects", "1\n"),
	"ipv4-all-send-redirects":       write("proc/sys/net/ipv4/conf/all/send_redirects", "1\n"),
	"ipv4-all-log-martians":         write("proc/sys/net/ipv4/conf/all/log_martians", "0\n"),
	"ipv6-all-accept-ra":            write("proc/sys/net/ipv6/conf/all/accept_ra", "1\n"),
	"ipv4-default-secure-redirects": write("proc/sys/net/ipv4/conf/default/secure_redirects", "1\n"),
	"ipv4-default-send-redirects":   write("proc/sys/net/ipv4/conf/default/send_redirects", "1\n"),
	"ipv4-default-log-martians":     write("proc/sys/net/ipv4/conf/default/log_martians", "0\n"),
	"ipv6-default-accept-ra":        write("proc/sys/net/ipv6/conf/default/accept_ra", "1\n"),
	"suid-dumpable-disabled":        write("proc/sys/fs/suid_dumpable", "1\n"),
	"nx-enabled":                    replace("proc/cpuinfo", " nx", ""),
	"core-dumps-restricted":         replace("etc/security/limits.conf", "hard    core            0", "soft    core            0"),
	"no-promiscuous-interfaces":     write("sys/class/net/eth0/flags", "0x1103\n"),
	"wireless-disabled":             write("sys/class/net/wlan0/wireless/link", "0\n"),
	"module-rds-disabled":           replace("etc/modprobe.d/cis.conf", "install rds /bin/true", "blacklist rds"),
	"module-cramfs-disabled":        replace("etc/modprobe.d/cis.conf", "install cramfs /bin/true", "blacklist cramfs"),
	"module-freevxfs-disabled":      replace("etc/modprobe.d/cis.conf", "install freevxfs /bin/true", "blacklist freevxfs"),
	"module-jffs2-disabled":         replace("etc/modprobe.d/cis.conf", "install jffs2 /bin/true", "blacklist jffs2"),
	"module-hfs-disabled":           replace("etc/modprobe.d/cis.conf", "install hfs /bin/true", "blacklist hfs"),
	"module-hfsplus-disabled":       replace("etc/modprobe.d/cis.conf", "install hfsplus /bin/true", "blacklist hfsplus"),
	"module-udf-disabled":           replace("etc/modprobe.d/cis.conf", "install udf /bin/true", "blacklist udf"),
	"module-dccp-disabled":          replace("etc/modprobe.d/cis.conf", "install dccp /bin/true", "blacklist dccp"),
	"module-sctp-disabled":          replace("etc/modprobe.d/cis.conf", "install sctp /bin/true", "blacklist sctp"),
	"module-tipc-disabled":          replace("etc/modprobe.d/cis.conf", "install tipc /bin/true", "blacklist tipc"),
	"module-usb-storage-disabled":   replace("etc/modprobe.d/cis.conf", "install usb-storage /bin/true", "blacklist usb-storage"),
	"rlogin-disabled":               symlink("/lib/systemd/system/rlogin.socket", "etc/systemd/system/sockets.target.wants/rlogin.socket"),
	"telnet-disabled":               symlink("/lib/systemd/system/telnet.socket", "etc/systemd/system/sockets.target.wants/telnet.socket"),
	"rsh-disabled":                  symlink("/lib/systemd/system/rsh.socket", "etc/systemd/system/sockets.target.wants/rsh.socket"),
	"inetd-disabled":                symlink("/lib/systemd/system/inetd.service", "etc/systemd/system/multi-user.target.wants/inetd.service"),
	"openbsd-inetd-disabled":        symlink("/lib/systemd/system/openbsd-inetd.service", "etc/systemd/system/multi-user.target.wants/openbsd-inetd.service"),
	"xinetd-disabled":               symlink("/lib/systemd/system/xinetd.service", "etc/systemd/system/multi-user.target.wants/xinetd.service"),
	"ypbind-disabled":               symlink("/lib/systemd/system/ypbind.service", "etc/systemd/system/multi-user.target.wants/ypbind.service"),
	"tftpd-disabled":                symlink("/lib/systemd/system/tftpd-hpa.service", "etc/systemd/system/multi-user.target.wants/tftpd-hpa.service"),
	"bluetooth-disabled":            all(remove("etc/systemd/system/bluetooth.service"), symlink("/lib/systemd/system/bluetooth.service", "etc/systemd/system/multi-user.target.wants/bluetooth.service")), // masked on the fixture
	"isdn-disabled":                 symlink("/lib/systemd/system/isdn.service", "etc/systemd/system/multi-user.target.wants/isdn.service"),
	"kdump-disabled":                symlink("/lib/systemd/system/kdump-tools.service", "etc/systemd/system/multi-user.target.wants/kdump-tools.service"),
	"avahi-disabled":                symlink("/lib/systemd/system/avahi-daemon.service", "etc/systemd/system/multi-user.target.wants/avahi-daemon.service"),
	"cups-disabled":                 symlink("/lib/systemd/system/cups.service", "etc/systemd/system/multi-user.target.wants/cups.service"),
	"dhcpd-disabled":                symlink("/lib/systemd/system/dhcpd.service", "etc/systemd/system/multi-user.target.wants/dhcpd.service"),
	"isc-dhcp-server-disabled":      symlink("/lib/systemd/system/isc-dhcp-server.service", "etc/systemd/system/multi-user.target.wants/isc-dhcp-server.service"),
	"sendmail-disabled":             symlink("/lib/systemd/system/sendmail.service", "etc/systemd/system/multi-user.target.wants/sendmail.service"),
	"postfix-disabled":              symlink("/lib/systemd/system/postfix.service", "etc/systemd/system/multi-user.target.wants/postfix.service"),
	"slapd-disabled":                symlink("/lib/systemd/system/slapd.service", "etc/systemd/system/multi-user.target.wants/slapd.service"),
	"rpcgssd-disabled":              symlink("/lib/systemd/system/rpc-gssd.service", "etc/systemd/system/multi-user.target.wants/rpc-gssd.service"),
	"rpcidmapd-disabled":            symlink("/lib/systemd/system/nfs-idmapd.service", "etc/systemd/system/multi-user.target.wants/nfs-idmapd.service"),
	"rpcbind-disabled":              symlink("/lib/systemd/system/rpcbind.service", "etc/systemd/system/multi-user.target.wants/rpcbind.service"),
	"rpcsvcgssd-disabled":           symlink("/lib/systemd/system/rpc-svcgssd.service", "etc/systemd/system/multi-user.target.wants/rpc-svcgssd.service"),
	"named-disabled":                symlink("/lib/systemd/system/named.service", "etc/systemd/system/multi-user.target.wants/named.service"),
	"bind9-disabled":                symlink("/lib/systemd/system/bind9.service", "etc/systemd/system/multi-user.target.wants/bind9.service"),
	"dovecot-disabled":              symlink("/lib/systemd/system/dovecot.service", "etc/systemd/system/multi-user.target.wants/dovecot.service"),
	"snmpd-disabled":                symlink("/lib/systemd/system/snmpd.service", "etc/systemd/system/multi-user.target.wants/snmpd.service"),
	"vsftpd-disabled":               symlink("/lib/systemd/system/vsftpd.service", "etc/systemd/system/multi-user.target.wants/vsftpd.service"),
	"nfs-server-disabled":           symlink("/lib/systemd/system/nfs-server.service", "etc/systemd/system/multi-user.target.wants/nfs-server.service"),
	"smbd-disabled":                 symlink("/lib/systemd/system/smbd.service", "etc/systemd/system/multi-user.target.wants/smbd.service"),
	"rsync-disabled":                symlink("/lib/systemd/system/rsync.service", "etc/systemd/system/multi-user.target.wants/rsync.service"),
	"cron-enabled":                  remove("etc/systemd/system/multi-user.target.wants/cron.service"),
	"syslog-enabled":                remove("etc/systemd/system/multi-user.target.wants/rsyslog.service"),
	"auditd-enabled":                symlink("/dev/null", "etc/systemd/system/auditd.service"),
	"auditd-running":                remove("run/auditd.pid"),
	"time-sync-enabled":             remove("etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"),
	"telnetd-absent":                replace("var/lib/dpkg/status", "Package: telnetd\nStatus: deinstall ok config-files", "Package: telnetd\nStatus: install ok installed"),
	"rsh-server-absent":             appendLine("var/lib/dpkg/status", "Package: rsh-server\nStatus: install ok installed\n"),
	"nis-absent":                    appendLine("var/lib/dpkg/status", "Package: nis\nStatus: install ok installed\n"),
	"tftp-absent":                   appendLine("var/lib/dpkg/status", "Package: tftp\nStatus: install ok installed\n"),
	"isdnutils-absent":              appendLine("var/lib/dpkg/status", "Package: isdnutils-base\nStatus: install ok installed\n"),
	"rsh-client-absent":             appendLine("var/lib/dpkg/status", "Package: rsh-client\nStatus: install ok installed\n"),
	"talk-absent":                   appendLine("var/lib/dpkg/status", "Package: talk\nStatus: install ok installed\n"),
	"telnet-client-absent":          appendLine("var/lib/dpkg/status", "Package: telnet\nStatus: install ok installed\n"),
	"prelink-absent":                appendLine("var/lib/dpkg/status", "Package: prelink\nStatus: install ok installed\n"),
	"xserver-absent":                appendLine("var/lib/dpkg/status", "Package: xserver-xorg-core\nStatus: install ok installed\n"),
	"syslog-installed":              replace("var/lib/dpkg/status", "Package: rsyslog\nStatus: install ok installed", "Package: rsyslog\nStatus: deinstall ok config-files"),
	"logrotate-installed":           replace("var/lib/dpkg/status", "Package: logrotate\nStatus: install ok installed", "Package: logrotate\nStatus: purge ok not-installed"),
	"auditd-installed":              replace("var/lib/dpkg/status", "Package: auditd\n", "Package: auditd-tools\n"),
	"rsyslog-no-remote-input":       appendLine("etc/rsyslog.d/50-default.conf", "module(load=\"imtcp\")"),
	"rsyslog-file-create-mode":      replace("etc/rsyslog.conf", "$FileCreateMode 0640", "$FileCreateMode 0644"),
	"sshd-protocol-2":               write("etc/ssh/sshd_config.d/00-local.conf", "Protocol 2,1\n"),
	"sshd-ignore-rhosts":            write("etc/ssh/sshd_config.d/00-local.conf", "IgnoreRhosts no\n"),
	"sshd-rhosts-authentication":    write("etc/ssh/sshd_config.d/00-local.conf", "RhostsRSAAuthentication yes\n"),
	"sshd-hostbased-authentication": write("etc/ssh/sshd_config.d/00-local.conf", "HostbasedAuthentication yes\n"),
	"sshd-permit-empty-passwords":   write("etc/ssh/sshd_config.d/00-local.conf", "PermitEmptyPasswords yes\n"),
	"sshd-permit-user-environment":  write("etc/ssh/sshd_config.d/00-local.conf", "PermitUserEnvironment yes\n"),
	"sshd-max-auth-tries":           write("etc/ssh/sshd_config.d/00-local.conf", "MaxAuthTries 6\n"),
	"sshd-log-level":                write("etc/ssh/sshd_config.d/00-local.conf", "LogLevel QUIET\n"),
	"sshd-x11-forwarding":           write("etc/ssh/sshd_config.d/00-local.conf", "X11Forwarding yes\n"),
	"sshd-permit-root-login":        replace("etc/ssh/sshd_config", "PermitRootLogin no\n", ""),
	"zeroconf-disabled":             replace("etc/sysconfig/network", "NOZEROCONF=yes", "NOZEROCONF=no"),
}

// TestEveryCheck runs each built-in check on the hardened host, where
// it must apply and pass, and on the host changed by its failing entry,
// where it must fail.
func TestEveryCheck(t *testing.T) {
	checks, err := parseChecks(defaultChecks)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) < 60 {
		t.Errorf("%d built-in checks, want at least 60", len(checks))
	}
	good := hardenedHost(t)
	var ids []string
	for i := range checks {
		c := &checks[i]
		ids = append(ids, c.ID)
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel() // each case has its own host copy; the checks are read-only
			if res, reason, na := evalOn(good, c); res != "Pass" || na != "" {
				t.Errorf("hardened host: %s %q (not applicable: %q), want Pass", res, reason, na)
			}
			m, ok := failing[c.ID]
			if !ok {
				t.Fatalf("no failing fixture for %s in the failing table", c.ID)
			}
			bad := hardenedHost(t)
			m(t, bad)
			if res, reason, _ := evalOn(bad, c); res != "Fail" || reason == "" {
				t.Errorf("changed host: %s %q, want Fail with a reason", res, reason)
			} else {
				t.Logf("fails with: %s", reason)
			}
		})
	}
	for id := range failing {
		if !slices.Contains(ids, id) {
			t.Errorf("failing table names %s, which is not a built-in check", id)
		}
	}
}
