^envinject: value of BIG \(200005 bytes\) exceeds the system limit of [0-9]+ bytes per variable$
^envinject: value of BIG \(200005 bytes\) exceeds the system limit of [0-9]+ bytes per variable$
