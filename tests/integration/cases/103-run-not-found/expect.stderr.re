^envinject: .*\./nosuchprog.*not found
^envinject: .*nosuchdir/nosuchprog.*not found
^envinject: .*nosuchprog.*not found
