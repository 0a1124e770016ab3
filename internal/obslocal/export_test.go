package obslocal

// UnsignedPayload is SigV4's x-amz-content-sha256 of an unsigned body.
const UnsignedPayload = unsignedPayload

// XMLTime is the layout of the times in the server's XML responses.
const XMLTime = xmlTime
