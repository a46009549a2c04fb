envinject: consul:down/ \(http://127\.0\.0\.1:[0-9]+\): HTTP 503 after [0-9]+ attempts$
envinject: consul:junk/ \(http://127\.0\.0\.1:[0-9]+\): KV reply: malformed JSON at byte 71 of 71: premature end of input$
envinject: consul:html/ \(http://127\.0\.0\.1:[0-9]+\): KV reply: malformed JSON at byte 1 of 55: '\[' or '\{' expected$
