^envinject: missing/rec: cannot open the audit record; the program is not started: No such file or directory$
^envinject: adir: cannot open the audit record; the program is not started: Is a directory$
^envinject: (/dev/full|ro): cannot (open|write) the audit record; the program is not started: (No space left on device|Permission denied)$
^envinject: warning: /.*/missing/rec: cannot open the audit record \(audit.required = false: started anyway\): No such file or directory$
^envinject: warning: adir: cannot open the audit record \(audit.required = false: started anyway\): Is a directory$
