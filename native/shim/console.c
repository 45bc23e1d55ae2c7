/* The container's terminal: a pty from the container's own devpts, whose master
 * goes to the console socket (runc's protocol) or to the shim. */
#include "console.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "sync.h"

/* /dev/console is the container's own pty, bound over a placeholder file. */
static int bind_console(const struct rootfs *r, int master, struct berr *err) {
  unsigned ptn;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) return berr_sys(err, "finding the pty number");
  char pts[32];
  snprintf(pts, sizeof pts, "/dev/pts/%u", ptn);
  if (rootfs_touch(r, "/dev/console", err) < 0) return -1;
  int sfd cleanup_fd = rootfs_open_in(r, pts, O_PATH, err);
  int tfd cleanup_fd = rootfs_open_in(r, "/dev/console", O_PATH, err);
  if (sfd < 0 || tfd < 0) return -1;
  char sp[32], tp[32];
  snprintf(sp, sizeof sp, "/proc/self/fd/%d", sfd);
  snprintf(tp, sizeof tp, "/proc/self/fd/%d", tfd);
  if (mount(sp, tp, NULL, MS_BIND, NULL) < 0) return berr_sys(err, "binding %s to /dev/console", pts);
  return 0;
}

int console_setup(const struct rootfs *r, const struct op *op, int console_fd, int shim_fd, struct berr *err) {
  int master cleanup_fd = rootfs_open_in(r, "/dev/ptmx", O_RDWR | O_NOCTTY, err);
  if (master < 0) return -1;
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) return berr_sys(err, "unlocking the pty");
  int slave cleanup_fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return berr_sys(err, "opening the pty slave");
  struct winsize ws = {.ws_row = (unsigned short)op_u64(op, 0), .ws_col = (unsigned short)op_u64(op, 1)};
  if (ws.ws_row && ws.ws_col && ioctl(master, TIOCSWINSZ, &ws) < 0) return berr_sys(err, "setting the terminal size");
  if (fchown(slave, (uid_t)op_u64(op, 2), (gid_t)-1) < 0) return berr_sys(err, "giving the pty to the process's user");
  if (r->fd >= 0 && bind_console(r, master, err) < 0) return -1;
  if (console_fd >= 0) {
    /* runc's protocol: one message naming the file, the master attached. */
    static const char name[] = "/dev/ptmx";
    if (send_fd(console_fd, master, name, sizeof name - 1) < 0)
      return berr_sys(err, "sending the pty master to the console socket");
  } else if (msg_send_fd(shim_fd, MSG_CONSOLE, master) < 0) {
    return berr_sys(err, "sending the pty master to the shim");
  }
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) return berr_sys(err, "making the pty the process's stdio");
  if (ioctl(0, TIOCSCTTY, 0) < 0) return berr_sys(err, "making the pty the controlling terminal");
  return 0;
}
