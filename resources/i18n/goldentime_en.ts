<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AuditPanel</name>
    <message>
        <source>Searching…</source>
        <translation>Searching…</translation>
    </message>
    <message>
        <source>Export the audit trail</source>
        <translation>Export the audit trail</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <source>The newest {n} rows; narrow the search or export to see the rest.</source>
        <translation>The newest {n} rows; narrow the search or export to see the rest.</translation>
    </message>
    <message>
        <source>{n} rows</source>
        <translation>{n} rows</translation>
    </message>
    <message>
        <source>Exported to {path} ({kb} KB)</source>
        <translation>Exported to {path} ({kb} KB)</translation>
    </message>
    <message>
        <source>Audit trail</source>
        <translation>Audit trail</translation>
    </message>
    <message>
        <source>Who</source>
        <translation>Who</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>Target id</source>
        <translation>Target id</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>Period</translation>
    </message>
    <message>
        <source>e.g. user:kim or agency:112 room</source>
        <translation>e.g. user:kim or agency:112 room</translation>
    </message>
    <message>
        <source>camera, incident or share id</source>
        <translation>camera, incident or share id</translation>
    </message>
    <message>
        <source>every action</source>
        <translation>every action</translation>
    </message>
    <message>
        <source>Last hour</source>
        <translation>Last hour</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>Last 24 hours</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>Last 7 days</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>Last 30 days</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Search</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Export CSV…</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Target</translation>
    </message>
    <message>
        <source>From</source>
        <translation>From</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
</context>
<context>
    <name>CameraPanel</name>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message numerus="yes">
        <source>%n camera(s)</source>
        <translation>
            <numerusform>%n camera</numerusform>
            <numerusform>%n cameras</numerusform>
        </translation>
    </message>
    <message>
        <source>Approximate position: not used as a nearest camera until corrected</source>
        <translation>Approximate position: not used as a nearest camera until corrected</translation>
    </message>
    <message>
        <source>Operated by: {provider}</source>
        <translation>Operated by: {provider}</translation>
    </message>
    <message>
        <source>Register number: {number}</source>
        <translation>Register number: {number}</translation>
    </message>
    <message>
        <source>Address: {address}</source>
        <translation>Address: {address}</translation>
    </message>
    <message>
        <source>Purpose in the register: {purpose}</source>
        <translation>Purpose in the register: {purpose}</translation>
    </message>
    <message>
        <source>Installed: {when}</source>
        <translation>Installed: {when}</translation>
    </message>
    <message>
        <source>Resolution: {mp} megapixels</source>
        <translation>Resolution: {mp} megapixels</translation>
    </message>
    <message>
        <source>Resolution: {pixels}</source>
        <translation>Resolution: {pixels}</translation>
    </message>
    <message>
        <source>Filming: {view}</source>
        <translation>Filming: {view}</translation>
    </message>
    <message numerus="yes">
        <source>Keeps video for %n day(s)</source>
        <translation>
            <numerusform>Keeps video for %n day</numerusform>
            <numerusform>Keeps video for %n days</numerusform>
        </translation>
    </message>
    <message>
        <source>Phone: {phone}</source>
        <translation>Phone: {phone}</translation>
    </message>
    <message>
        <source>Register edition: {date}</source>
        <translation>Register edition: {date}</translation>
    </message>
    <message>
        <source>Search cameras (Ctrl+F)</source>
        <translation>Search cameras (Ctrl+F)</translation>
    </message>
    <message>
        <source>Drag a camera onto a video tile, or double-click to add it to the wall</source>
        <translation>Drag a camera onto a video tile, or double-click to add it to the wall</translation>
    </message>
</context>
<context>
    <name>ConnectionBanner</name>
    <message>
        <source>Engine unreachable – video keeps playing, but actions cannot be carried out. Reconnecting… ({reason})</source>
        <translation>Engine unreachable – video keeps playing, but actions cannot be carried out. Reconnecting… ({reason})</translation>
    </message>
    <message>
        <source>Retry now</source>
        <translation>Retry now</translation>
    </message>
</context>
<context>
    <name>Console</name>
    <message>
        <source>Your session has ended ({reason}). Log in again.</source>
        <translation>Your session has ended ({reason}). Log in again.</translation>
    </message>
    <message>
        <source>No camera in the drawn area.</source>
        <translation>No camera in the drawn area.</translation>
    </message>
    <message>
        <source>%n camera(s) of the drawn area on the wall.</source>
        <translation>%n camera(s) of the drawn area on the wall.</translation>
    </message>
</context>
<context>
    <name>ConsoleController</name>
    <message>
        <source>Something went wrong; see the log for details.</source>
        <translation>Something went wrong; see the log for details.</translation>
    </message>
    <message>
        <source>Unknown user or wrong password.</source>
        <translation>Unknown user or wrong password.</translation>
    </message>
    <message>
        <source>The engine cannot be reached: {detail}</source>
        <translation>The engine cannot be reached: {detail}</translation>
    </message>
    <message>
        <source>The engine is unreachable; the action was not carried out. ({detail})</source>
        <translation>The engine is unreachable; the action was not carried out. ({detail})</translation>
    </message>
    <message>
        <source>The session has expired; please log in again.</source>
        <translation>The session has expired; please log in again.</translation>
    </message>
    <message>
        <source>The engine refused the action: {detail}</source>
        <translation>The engine refused the action: {detail}</translation>
    </message>
    <message>
        <source>Incident acknowledged.</source>
        <translation>Incident acknowledged.</translation>
    </message>
    <message>
        <source>Incident assigned to {name}.</source>
        <translation>Incident assigned to {name}.</translation>
    </message>
    <message>
        <source>Priority changed to {p}.</source>
        <translation>Priority changed to {p}.</translation>
    </message>
    <message>
        <source>Incident closed.</source>
        <translation>Incident closed.</translation>
    </message>
    <message>
        <source>A share needs an agency, at least one camera, 1–1440 minutes and a purpose.</source>
        <translation>A share needs an agency, at least one camera, 1–1440 minutes and a purpose.</translation>
    </message>
    <message>
        <source>Video shared with {agency}.</source>
        <translation>Video shared with {agency}.</translation>
    </message>
    <message>
        <source>Extension by {m} minutes asked; a supervisor decides.</source>
        <translation>Extension by {m} minutes asked; a supervisor decides.</translation>
    </message>
    <message>
        <source>Share extended by {m} minutes.</source>
        <translation>Share extended by {m} minutes.</translation>
    </message>
    <message>
        <source>Share revoked.</source>
        <translation>Share revoked.</translation>
    </message>
    <message>
        <source>No 119 fire agency is configured.</source>
        <translation>No 119 fire agency is configured.</translation>
    </message>
    <message>
        <source>Reported from the operator console</source>
        <translation>Reported from the operator console</translation>
    </message>
    <message>
        <source>Reported to {agency}.</source>
        <translation>Reported to {agency}.</translation>
    </message>
    <message>
        <source>Delivery queued again.</source>
        <translation>Delivery queued again.</translation>
    </message>
</context>
<context>
    <name>DetailPanel</name>
    <message>
        <source>DRILL</source>
        <translation>DRILL</translation>
    </message>
    <message>
        <source>{service} · {status} · {where} · assignee: {assignee} · units: {units}</source>
        <translation>{service} · {status} · {where} · assignee: {assignee} · units: {units}</translation>
    </message>
    <message>
        <source>Golden time {left}</source>
        <translation>Golden time {left}</translation>
    </message>
    <message>
        <source>Golden time OVERDUE {over}</source>
        <translation>Golden time OVERDUE {over}</translation>
    </message>
    <message>
        <source>Golden time met</source>
        <translation>Golden time met</translation>
    </message>
    <message>
        <source>Golden time missed ({over})</source>
        <translation>Golden time missed ({over})</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>Drag onto a video tile, or double-click to add it to the wall</source>
        <translation>Drag onto a video tile, or double-click to add it to the wall</translation>
    </message>
    <message numerus="yes">
        <source>Cameras (%n)</source>
        <translation>
            <numerusform>Cameras (%n)</numerusform>
            <numerusform>Cameras (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Shares (%n)</source>
        <translation>
            <numerusform>Shares (%n)</numerusform>
            <numerusform>Shares (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Share page for the agency&apos;s browser (every camera live): {url}</source>
        <translation>Share page for the agency&apos;s browser (every camera live): {url}</translation>
    </message>
    <message>
        <source>{ok}/{total} delivered</source>
        <translation>{ok}/{total} delivered</translation>
    </message>
    <message numerus="yes">
        <source>attempt %n</source>
        <translation>
            <numerusform>attempt %n</numerusform>
            <numerusform>attempt %n</numerusform>
        </translation>
    </message>
    <message>
        <source>Deliveries</source>
        <translation>Deliveries</translation>
    </message>
    <message>
        <source>Assign incident</source>
        <translation>Assign incident</translation>
    </message>
    <message>
        <source>Assign to (operator name):</source>
        <translation>Assign to (operator name):</translation>
    </message>
    <message>
        <source>Close incident</source>
        <translation>Close incident</translation>
    </message>
    <message>
        <source>Close “{title}”? Active shares end with it.</source>
        <translation>Close “{title}”? Active shares end with it.</translation>
    </message>
    <message>
        <source>Closed by the operator</source>
        <translation>Closed by the operator</translation>
    </message>
    <message>
        <source>Extend the share</source>
        <translation>Extend the share</translation>
    </message>
    <message>
        <source>Why is the video still needed for 30 more minutes? (recorded in the audit)</source>
        <translation>Why is the video still needed for 30 more minutes? (recorded in the audit)</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>Acknowledge</translation>
    </message>
    <message>
        <source>Acknowledge the incident (Ctrl+Enter)</source>
        <translation>Acknowledge the incident (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Assign…</source>
        <translation>Assign…</translation>
    </message>
    <message>
        <source>Share video…</source>
        <translation>Share video…</translation>
    </message>
    <message>
        <source>Share cameras with an agency for a time and purpose (Ctrl+Shift+S)</source>
        <translation>Share cameras with an agency for a time and purpose (Ctrl+Shift+S)</translation>
    </message>
    <message>
        <source>Report to 119</source>
        <translation>Report to 119</translation>
    </message>
    <message>
        <source>Report a fire to 119 with a snapshot of the selected camera, in one step (Ctrl+Shift+R)</source>
        <translation>Report a fire to 119 with a snapshot of the selected camera, in one step (Ctrl+Shift+R)</translation>
    </message>
    <message>
        <source>Cameras to wall</source>
        <translation>Cameras to wall</translation>
    </message>
    <message>
        <source>Put all of this incident&apos;s cameras on the video wall (Ctrl+Shift+W)</source>
        <translation>Put all of this incident&apos;s cameras on the video wall (Ctrl+Shift+W)</translation>
    </message>
    <message>
        <source>Send to wall display</source>
        <translation>Send to wall display</translation>
    </message>
    <message>
        <source>Show this incident on the control room&apos;s wall display</source>
        <translation>Show this incident on the control room&apos;s wall display</translation>
    </message>
    <message>
        <source>Priority:</source>
        <translation>Priority:</translation>
    </message>
    <message>
        <source>Extend 30 min</source>
        <translation>Extend 30 min</translation>
    </message>
    <message>
        <source>Revoke</source>
        <translation>Revoke</translation>
    </message>
    <message>
        <source>Retry dead letters</source>
        <translation>Retry dead letters</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>Timeline</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>By</source>
        <translation>By</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Event</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>Agency</translation>
    </message>
    <message>
        <source>State</source>
        <translation>State</translation>
    </message>
    <message>
        <source>Expires in</source>
        <translation>Expires in</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>Cameras</translation>
    </message>
    <message>
        <source>Purpose</source>
        <translation>Purpose</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Progress</translation>
    </message>
    <message>
        <source>Last error</source>
        <translation>Last error</translation>
    </message>
    <message>
        <source>Select an incident in the queue or on the map.</source>
        <translation>Select an incident in the queue or on the map.</translation>
    </message>
</context>
<context>
    <name>EvidenceButton</name>
    <message>
        <source>Evidence bundle…</source>
        <translation>Evidence bundle…</translation>
    </message>
    <message>
        <source>Save this incident&apos;s signed evidence bundle (EIDO, timeline, shares and their legal basis, viewings, audit with chain proof); check it with: main.py incident verify FILE.zip</source>
        <translation>Save this incident&apos;s signed evidence bundle (EIDO, timeline, shares and their legal basis, viewings, audit with chain proof); check it with: main.py incident verify FILE.zip</translation>
    </message>
</context>
<context>
    <name>EvidenceSaver</name>
    <message>
        <source>Save the evidence bundle</source>
        <translation>Save the evidence bundle</translation>
    </message>
    <message>
        <source>Evidence bundle (*.zip)</source>
        <translation>Evidence bundle (*.zip)</translation>
    </message>
    <message>
        <source>Evidence bundle refused: {reason}</source>
        <translation>Evidence bundle refused: {reason}</translation>
    </message>
    <message>
        <source>Cannot write {path}: {reason}</source>
        <translation>Cannot write {path}: {reason}</translation>
    </message>
    <message>
        <source>Evidence bundle of {id} saved to {path}</source>
        <translation>Evidence bundle of {id} saved to {path}</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>{off} of {total} cameras offline · {bad} agencies with delivery problems</source>
        <translation>{off} of {total} cameras offline · {bad} agencies with delivery problems</translation>
    </message>
    <message>
        <source>{dead} dead · {queued} queued</source>
        <translation>{dead} dead · {queued} queued</translation>
    </message>
    <message>
        <source>Agencies</source>
        <translation>Agencies</translation>
    </message>
    <message>
        <source>Offline cameras</source>
        <translation>Offline cameras</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>Agency</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>State</source>
        <translation>State</translation>
    </message>
    <message>
        <source>Deliveries</source>
        <translation>Deliveries</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Purpose</source>
        <translation>Purpose</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>Searching…</source>
        <translation>Searching…</translation>
    </message>
    <message numerus="yes">
        <source>%n closed incident(s)</source>
        <translation>
            <numerusform>%n closed incident</numerusform>
            <numerusform>%n closed incidents</numerusform>
        </translation>
    </message>
    <message>
        <source>Closed within</source>
        <translation>Closed within</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>Place</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>Text</translation>
    </message>
    <message>
        <source>Near</source>
        <translation>Near</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>Last 24 hours</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>Last 7 days</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>Last 30 days</translation>
    </message>
    <message>
        <source>Last year</source>
        <translation>Last year</translation>
    </message>
    <message>
        <source>All services</source>
        <translation>All services</translation>
    </message>
    <message>
        <source>Anywhere</source>
        <translation>Anywhere</translation>
    </message>
    <message>
        <source>Around the selected incident</source>
        <translation>Around the selected incident</translation>
    </message>
    <message>
        <source>Around the map&apos;s centre</source>
        <translation>Around the map&apos;s centre</translation>
    </message>
    <message>
        <source> m</source>
        <translation> m</translation>
    </message>
    <message>
        <source>Radius of the circle, in metres</source>
        <translation>Radius of the circle, in metres</translation>
    </message>
    <message>
        <source>part of the address, e.g. 중앙시장</source>
        <translation>part of the address, e.g. 중앙시장</translation>
    </message>
    <message>
        <source>part of the title or the agency&apos;s number</source>
        <translation>part of the title or the agency&apos;s number</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Search</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Received</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priority</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>Select an incident to read its timeline (read-only).</source>
        <translation>Select an incident to read its timeline (read-only).</translation>
    </message>
    <message>
        <source>Incident history</source>
        <translation>Incident history</translation>
    </message>
</context>
<context>
    <name>IncidentTableModel</name>
    <message>
        <source>Priority</source>
        <translation>Priority</translation>
    </message>
    <message>
        <source>Golden time</source>
        <translation>Golden time</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>Service</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>Incident</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>Assignee</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Received</translation>
    </message>
    <message>
        <source>met ({left} left)</source>
        <translation>met ({left} left)</translation>
    </message>
    <message>
        <source>late ({over})</source>
        <translation>late ({over})</translation>
    </message>
    <message>
        <source>OVERDUE {over}</source>
        <translation>OVERDUE {over}</translation>
    </message>
    <message>
        <source>DRILL</source>
        <translation>DRILL</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>112 emergency video</source>
        <translation>112 emergency video</translation>
    </message>
    <message>
        <source>112 dispatch</source>
        <translation>112 dispatch</translation>
    </message>
    <message>
        <source>119 dispatch</source>
        <translation>119 dispatch</translation>
    </message>
    <message>
        <source>Disaster response</source>
        <translation>Disaster response</translation>
    </message>
    <message>
        <source>Vulnerable person SOS</source>
        <translation>Vulnerable person SOS</translation>
    </message>
    <message>
        <source>New</source>
        <translation>New</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>Acknowledged</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>Closed</translation>
    </message>
    <message>
        <source>1 – critical</source>
        <translation>1 – critical</translation>
    </message>
    <message>
        <source>2 – high</source>
        <translation>2 – high</translation>
    </message>
    <message>
        <source>3 – medium</source>
        <translation>3 – medium</translation>
    </message>
    <message>
        <source>4 – low</source>
        <translation>4 – low</translation>
    </message>
    <message>
        <source>5 – minimal</source>
        <translation>5 – minimal</translation>
    </message>
    <message>
        <source>Crime prevention</source>
        <translation>Crime prevention</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>Traffic</translation>
    </message>
    <message>
        <source>Disaster watch</source>
        <translation>Disaster watch</translation>
    </message>
    <message>
        <source>Child protection</source>
        <translation>Child protection</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>Other</translation>
    </message>
    <message>
        <source>Police</source>
        <translation>Police</translation>
    </message>
    <message>
        <source>Fire</source>
        <translation>Fire</translation>
    </message>
    <message>
        <source>Disaster</source>
        <translation>Disaster</translation>
    </message>
    <message>
        <source>Vulnerable-person service</source>
        <translation>Vulnerable-person service</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Delivered</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>Pending</translation>
    </message>
    <message>
        <source>Retrying</source>
        <translation>Retrying</translation>
    </message>
    <message>
        <source>Dead letter</source>
        <translation>Dead letter</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Active</translation>
    </message>
    <message>
        <source>Expiring soon</source>
        <translation>Expiring soon</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Expired</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>Revoked</translation>
    </message>
    <message>
        <source>Waiting for approval</source>
        <translation>Waiting for approval</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Failing</source>
        <translation>Failing</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Disabled</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>Idle</translation>
    </message>
    <message>
        <source>Dead letters</source>
        <translation>Dead letters</translation>
    </message>
    <message>
        <source>Incident created ({service})</source>
        <translation>Incident created ({service})</translation>
    </message>
    <message>
        <source>Cameras selected: {cameras}</source>
        <translation>Cameras selected: {cameras}</translation>
    </message>
    <message>
        <source>All-clear received: {headline}</source>
        <translation>All-clear received: {headline}</translation>
    </message>
    <message>
        <source>Location updated</source>
        <translation>Location updated</translation>
    </message>
    <message>
        <source>Closed: {reason}</source>
        <translation>Closed: {reason}</translation>
    </message>
    <message>
        <source>Units dispatched: {units}</source>
        <translation>Units dispatched: {units}</translation>
    </message>
    <message>
        <source>Note: {text}</source>
        <translation>Note: {text}</translation>
    </message>
    <message>
        <source>Warning: {text}</source>
        <translation>Warning: {text}</translation>
    </message>
    <message>
        <source>Sensor reading {value}</source>
        <translation>Sensor reading {value}</translation>
    </message>
    <message>
        <source>Shared with {agency} for {minutes} min</source>
        <translation>Shared with {agency} for {minutes} min</translation>
    </message>
    <message>
        <source>Share with {agency} revoked</source>
        <translation>Share with {agency} revoked</translation>
    </message>
    <message>
        <source>Share extended by {minutes} min</source>
        <translation>Share extended by {minutes} min</translation>
    </message>
    <message>
        <source>Status changed: {value}</source>
        <translation>Status changed: {value}</translation>
    </message>
    <message>
        <source>Assigned to {value}</source>
        <translation>Assigned to {value}</translation>
    </message>
    <message>
        <source>Priority changed: {value}</source>
        <translation>Priority changed: {value}</translation>
    </message>
    <message>
        <source>Reported to {agency}</source>
        <translation>Reported to {agency}</translation>
    </message>
    <message>
        <source>Delivery queued again</source>
        <translation>Delivery queued again</translation>
    </message>
    <message>
        <source>Share with {agency} for {minutes} min waits for a decision</source>
        <translation>Share with {agency} for {minutes} min waits for a decision</translation>
    </message>
    <message>
        <source>{agency} asked for {chosen} cameras, above its cap of {cap}: confirm the share</source>
        <translation>{agency} asked for {chosen} cameras, above its cap of {cap}: confirm the share</translation>
    </message>
    <message>
        <source>Share with {agency} approved</source>
        <translation>Share with {agency} approved</translation>
    </message>
    <message>
        <source>Share rejected: {reason}</source>
        <translation>Share rejected: {reason}</translation>
    </message>
    <message>
        <source>Extension by {minutes} min waits for a supervisor</source>
        <translation>Extension by {minutes} min waits for a supervisor</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Enter your user name and password.</source>
        <translation>Enter your user name and password.</translation>
    </message>
    <message>
        <source>GoldenTime – log in</source>
        <translation>GoldenTime – log in</translation>
    </message>
    <message>
        <source>GoldenTime operator console</source>
        <translation>GoldenTime operator console</translation>
    </message>
    <message>
        <source>Engine:</source>
        <translation>Engine:</translation>
    </message>
    <message>
        <source>User name:</source>
        <translation>User name:</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>Password:</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Operator: {name}</source>
        <translation>Operator: {name}</translation>
    </message>
    <message>
        <source>● Live</source>
        <translation>● Live</translation>
    </message>
    <message>
        <source>● Connecting…</source>
        <translation>● Connecting…</translation>
    </message>
    <message>
        <source>● Engine unreachable</source>
        <translation>● Engine unreachable</translation>
    </message>
    <message>
        <source>● Session refused</source>
        <translation>● Session refused</translation>
    </message>
    <message>
        <source>● Stopped</source>
        <translation>● Stopped</translation>
    </message>
    <message>
        <source>● No live feed</source>
        <translation>● No live feed</translation>
    </message>
    <message>
        <source>Go to queue, detail, map, wall, cameras, health</source>
        <translation>Go to queue, detail, map, wall, cameras, health</translation>
    </message>
    <message>
        <source>Move through the incident queue</source>
        <translation>Move through the incident queue</translation>
    </message>
    <message>
        <source>Open the selected incident</source>
        <translation>Open the selected incident</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>Acknowledge</translation>
    </message>
    <message>
        <source>Share video with an agency</source>
        <translation>Share video with an agency</translation>
    </message>
    <message>
        <source>Report to 119 with a snapshot</source>
        <translation>Report to 119 with a snapshot</translation>
    </message>
    <message>
        <source>Put the incident&apos;s cameras on the wall</source>
        <translation>Put the incident&apos;s cameras on the wall</translation>
    </message>
    <message>
        <source>Close the incident</source>
        <translation>Close the incident</translation>
    </message>
    <message>
        <source>Wall layout 1, 4, 9, 16</source>
        <translation>Wall layout 1, 4, 9, 16</translation>
    </message>
    <message>
        <source>Restore a maximised tile</source>
        <translation>Restore a maximised tile</translation>
    </message>
    <message>
        <source>Search cameras</source>
        <translation>Search cameras</translation>
    </message>
    <message>
        <source>Reload from the engine</source>
        <translation>Reload from the engine</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Keyboard shortcuts</translation>
    </message>
    <message>
        <source>GoldenTime – operator console</source>
        <translation>GoldenTime – operator console</translation>
    </message>
    <message>
        <source>Incident queue</source>
        <translation>Incident queue</translation>
    </message>
    <message>
        <source>Incident detail</source>
        <translation>Incident detail</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>Map</translation>
    </message>
    <message>
        <source>Video wall</source>
        <translation>Video wall</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>Cameras</translation>
    </message>
    <message>
        <source>Camera and agency health</source>
        <translation>Camera and agency health</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>&amp;Reload from the engine</source>
        <translation>&amp;Reload from the engine</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;View</translation>
    </message>
    <message>
        <source>Reset panel layout</source>
        <translation>Reset panel layout</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Language</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
</context>
<context>
    <name>MapView</name>
    <message>
        <source>Districts</source>
        <extracomment>MIME type of a camera dragged from the map (payload: the camera id, UTF-8). Text is set too.</extracomment>
        <translation>Districts</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>Cameras</translation>
    </message>
    <message>
        <source>Camera views</source>
        <translation>Camera views</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>Incidents</translation>
    </message>
    <message>
        <source>DRILL</source>
        <translation>DRILL</translation>
    </message>
    <message>
        <source>online</source>
        <translation>online</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>No basemap configured: showing districts, cameras and incidents only.</source>
        <translation>No basemap configured: showing districts, cameras and incidents only.</translation>
    </message>
    <message>
        <source>Basemap unreachable: showing districts, cameras and incidents only.</source>
        <translation>Basemap unreachable: showing districts, cameras and incidents only.</translation>
    </message>
    <message>
        <source>Draw a circle to select cameras</source>
        <translation>Draw a circle to select cameras</translation>
    </message>
    <message>
        <source>Draw a polygon to select cameras</source>
        <translation>Draw a polygon to select cameras</translation>
    </message>
    <message>
        <source>Clear the drawn area</source>
        <translation>Clear the drawn area</translation>
    </message>
    <message>
        <source>Press and drag to draw a circle. Esc cancels.</source>
        <translation>Press and drag to draw a circle. Esc cancels.</translation>
    </message>
    <message>
        <source>Click to add corners, double-click to finish. Esc cancels.</source>
        <translation>Click to add corners, double-click to finish. Esc cancels.</translation>
    </message>
    <message>
        <source>approximate position (not used as nearest camera)</source>
        <translation>approximate position (not used as nearest camera)</translation>
    </message>
    <message>
        <source>City map (offline)</source>
        <translation>City map (offline)</translation>
    </message>
    <message>
        <source>Basemap</source>
        <translation>Basemap</translation>
    </message>
    <message>
        <source>119 facilities</source>
        <translation>119 facilities</translation>
    </message>
    <message>
        <source>Dispatched units</source>
        <translation>Dispatched units</translation>
    </message>
    <message>
        <source>Access</source>
        <translation>Access</translation>
    </message>
    <message>
        <source>Hazardous materials</source>
        <translation>Hazardous materials</translation>
    </message>
    <message>
        <source>Hospital</source>
        <translation>Hospital</translation>
    </message>
    <message>
        <source>Shelter</source>
        <translation>Shelter</translation>
    </message>
    <message>
        <source>Hydrant</source>
        <translation>Hydrant</translation>
    </message>
    <message>
        <source>Other facility</source>
        <translation>Other facility</translation>
    </message>
    <message>
        <source>112 emergency video</source>
        <translation>112 emergency video</translation>
    </message>
    <message>
        <source>112 dispatch</source>
        <translation>112 dispatch</translation>
    </message>
    <message>
        <source>119 dispatch</source>
        <translation>119 dispatch</translation>
    </message>
    <message>
        <source>Disaster response</source>
        <translation>Disaster response</translation>
    </message>
    <message>
        <source>Vulnerable person SOS</source>
        <translation>Vulnerable person SOS</translation>
    </message>
    <message>
        <source>Crime prevention</source>
        <translation>Crime prevention</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>Traffic</translation>
    </message>
    <message>
        <source>Disaster watch</source>
        <translation>Disaster watch</translation>
    </message>
    <message>
        <source>Child protection</source>
        <translation>Child protection</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>Other</translation>
    </message>
</context>
<context>
    <name>ProvisionPanel</name>
    <message>
        <source>Select a waiting share first.</source>
        <translation>Select a waiting share first.</translation>
    </message>
    <message>
        <source>A rejection needs a reason.</source>
        <translation>A rejection needs a reason.</translation>
    </message>
    <message>
        <source>Decision recorded.</source>
        <translation>Decision recorded.</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>Share</translation>
    </message>
    <message>
        <source>Extension</source>
        <translation>Extension</translation>
    </message>
    <message>
        <source>Over-cap request</source>
        <translation>Over-cap request</translation>
    </message>
    <message numerus="yes">
        <source>%n share(s) waiting for a decision</source>
        <translation>
            <numerusform>%n share waiting for a decision</numerusform>
            <numerusform>%n shares waiting for a decision</numerusform>
        </translation>
    </message>
    <message>
        <source>Nothing waiting</source>
        <translation>Nothing waiting</translation>
    </message>
    <message>
        <source>Approvals</source>
        <translation>Approvals</translation>
    </message>
    <message>
        <source>Provision</source>
        <translation>Provision</translation>
    </message>
    <message>
        <source>Reason (required to reject)</source>
        <translation>Reason (required to reject)</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Approve</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>Confirm</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Reject</translation>
    </message>
    <message>
        <source>Asked</source>
        <translation>Asked</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Recipient</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>Cameras</translation>
    </message>
    <message>
        <source>Minutes</source>
        <translation>Minutes</translation>
    </message>
    <message>
        <source>Legal basis</source>
        <translation>Legal basis</translation>
    </message>
    <message>
        <source>Purpose or reason</source>
        <translation>Purpose or reason</translation>
    </message>
    <message>
        <source>Asked by</source>
        <translation>Asked by</translation>
    </message>
    <message>
        <source>Ledger</source>
        <translation>Ledger</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Purpose</source>
        <translation>Purpose</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>Period</translation>
    </message>
    <message>
        <source>Form</source>
        <translation>Form</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Approver</source>
        <translation>Approver</translation>
    </message>
    <message>
        <source>Viewings / time</source>
        <translation>Viewings / time</translation>
    </message>
</context>
<context>
    <name>QueuePanel</name>
    <message>
        <source>NEW EMERGENCY: {title}</source>
        <translation>NEW EMERGENCY: {title}</translation>
    </message>
    <message>
        <source>Jump to it ({key})</source>
        <translation>Jump to it ({key})</translation>
    </message>
    <message numerus="yes">
        <source>%n open</source>
        <translation>
            <numerusform>%n open</numerusform>
            <numerusform>%n open</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n overdue</source>
        <translation>
            <numerusform>%n overdue</numerusform>
            <numerusform>%n overdue</numerusform>
        </translation>
    </message>
    <message>
        <source>OVERDUE {over}</source>
        <translation>OVERDUE {over}</translation>
    </message>
    <message>
        <source>met ({left} left)</source>
        <translation>met ({left} left)</translation>
    </message>
    <message>
        <source>Service:</source>
        <translation>Service:</translation>
    </message>
    <message>
        <source>All services</source>
        <translation>All services</translation>
    </message>
    <message>
        <source>Open incidents by priority, then age. Enter opens one.</source>
        <translation>Open incidents by priority, then age. Enter opens one.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>XYZ tile server (URL template)</source>
        <translation>XYZ tile server (URL template)</translation>
    </message>
    <message>
        <source>WMTS (REST URL template)</source>
        <translation>WMTS (REST URL template)</translation>
    </message>
    <message>
        <source>WMS</source>
        <translation>WMS</translation>
    </message>
    <message>
        <source>MBTiles file (offline)</source>
        <translation>MBTiles file (offline)</translation>
    </message>
    <message>
        <source>PMTiles file (offline)</source>
        <translation>PMTiles file (offline)</translation>
    </message>
    <message>
        <source>Always</source>
        <translation>Always</translation>
    </message>
    <message>
        <source>Only priority 1 and 2</source>
        <translation>Only priority 1 and 2</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Never</translation>
    </message>
    <message>
        <source>Console settings</source>
        <translation>Console settings</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Remove</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Choose…</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>Key</translation>
    </message>
    <message>
        <source>WMS layers</source>
        <translation>WMS layers</translation>
    </message>
    <message>
        <source>File</source>
        <translation>File</translation>
    </message>
    <message>
        <source>Attribution</source>
        <translation>Attribution</translation>
    </message>
    <message>
        <source>Maximum zoom of the tiles</source>
        <translation>Maximum zoom of the tiles</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>Map</translation>
    </message>
    <message>
        <source>Put a selected incident&apos;s cameras on the wall</source>
        <translation>Put a selected incident&apos;s cameras on the wall</translation>
    </message>
    <message>
        <source>Key to jump to a new urgent incident</source>
        <translation>Key to jump to a new urgent incident</translation>
    </message>
    <message>
        <source>Golden-time countdown per service (0: the engine&apos;s)</source>
        <translation>Golden-time countdown per service (0: the engine&apos;s)</translation>
    </message>
    <message>
        <source> min</source>
        <translation> min</translation>
    </message>
    <message>
        <source>engine&apos;s</source>
        <translation>engine&apos;s</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>Incidents</translation>
    </message>
    <message>
        <source>Basemap {n}</source>
        <translation>Basemap {n}</translation>
    </message>
    <message>
        <source>Offline basemap file</source>
        <translation>Offline basemap file</translation>
    </message>
    <message>
        <source>Tile files (*.mbtiles *.pmtiles)</source>
        <translation>Tile files (*.mbtiles *.pmtiles)</translation>
    </message>
    <message>
        <source>Not saved:</source>
        <translation>Not saved:</translation>
    </message>
    <message>
        <source>Console settings…</source>
        <translation>Console settings…</translation>
    </message>
</context>
<context>
    <name>ShareDialog</name>
    <message>
        <source>There is no agency to share with.</source>
        <translation>There is no agency to share with.</translation>
    </message>
    <message>
        <source>Choose at least one camera.</source>
        <translation>Choose at least one camera.</translation>
    </message>
    <message>
        <source>State the purpose of the share (it is recorded and sent to the agency).</source>
        <translation>State the purpose of the share (it is recorded and sent to the agency).</translation>
    </message>
    <message>
        <source>Share video with an agency</source>
        <translation>Share video with an agency</translation>
    </message>
    <message>
        <source>Agency:</source>
        <translation>Agency:</translation>
    </message>
    <message>
        <source>Cameras:</source>
        <translation>Cameras:</translation>
    </message>
    <message>
        <source>Minutes:</source>
        <translation>Minutes:</translation>
    </message>
    <message>
        <source>Purpose:</source>
        <translation>Purpose:</translation>
    </message>
    <message>
        <source>Legal basis:</source>
        <translation>Legal basis:</translation>
    </message>
    <message>
        <source>Requesting officer:</source>
        <translation>Requesting officer:</translation>
    </message>
    <message>
        <source>Case number:</source>
        <translation>Case number:</translation>
    </message>
    <message>
        <source>The law that allows this provision; it is recorded in the ledger</source>
        <translation>The law that allows this provision; it is recorded in the ledger</translation>
    </message>
    <message>
        <source>optional, e.g. 경위 김○○</source>
        <translation>optional, e.g. 경위 김○○</translation>
    </message>
    <message>
        <source>optional: the request&apos;s document or case number</source>
        <translation>optional: the request&apos;s document or case number</translation>
    </message>
    <message>
        <source>min</source>
        <translation>min</translation>
    </message>
    <message>
        <source>e.g. suspect tracking for patrol units</source>
        <translation>e.g. suspect tracking for patrol units</translation>
    </message>
</context>
<context>
    <name>TileSlot</name>
    <message>
        <source>Remove from wall</source>
        <extracomment>(main URL, sub URL) for a camera, or None when the console has no media access (yet).</extracomment>
        <translation>Remove from wall</translation>
    </message>
    <message>
        <source>Reconnect</source>
        <translation>Reconnect</translation>
    </message>
    <message>
        <source>Maximise / restore</source>
        <translation>Maximise / restore</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <source>Video backend and stream playing on this tile</source>
        <translation>Video backend and stream playing on this tile</translation>
    </message>
    <message>
        <source>No camera</source>
        <translation>No camera</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <source>Camera offline</source>
        <translation>Camera offline</translation>
    </message>
    <message>
        <source>Cannot play this camera</source>
        <translation>Cannot play this camera</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>Live</translation>
    </message>
    <message>
        <source>Stalled</source>
        <translation>Stalled</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>last frame {age} s ago</source>
        <translation>last frame {age} s ago</translation>
    </message>
    <message>
        <source>retry in {secs} s</source>
        <translation>retry in {secs} s</translation>
    </message>
    <message>
        <source>main</source>
        <translation>main</translation>
    </message>
    <message>
        <source>sub</source>
        <translation>sub</translation>
    </message>
</context>
<context>
    <name>WallCameraCell</name>
    <message>
        <source>{name}: waiting for media access from the engine</source>
        <translation>{name}: waiting for media access from the engine</translation>
    </message>
</context>
<context>
    <name>WallControl</name>
    <message>
        <source>Incident sent to {wall}.</source>
        <translation>Incident sent to {wall}.</translation>
    </message>
    <message numerus="yes">
        <source>%n camera(s) of the drawn area sent to {wall}.</source>
        <translation>
            <numerusform>%n camera of the drawn area sent to {wall}.</numerusform>
            <numerusform>%n cameras of the drawn area sent to {wall}.</numerusform>
        </translation>
    </message>
    <message>
        <source>{wall} is back to its previous layout.</source>
        <translation>{wall} is back to its previous layout.</translation>
    </message>
    <message>
        <source>The engine is unreachable; the wall was not changed. ({detail})</source>
        <translation>The engine is unreachable; the wall was not changed. ({detail})</translation>
    </message>
    <message>
        <source>The session has expired; please log in again.</source>
        <translation>The session has expired; please log in again.</translation>
    </message>
    <message>
        <source>The engine refused the wall change: {detail}</source>
        <translation>The engine refused the wall change: {detail}</translation>
    </message>
</context>
<context>
    <name>WallControlPanel</name>
    <message>
        <source>INCIDENT</source>
        <translation>INCIDENT</translation>
    </message>
    <message>
        <source>This console&apos;s video wall</source>
        <translation>This console&apos;s video wall</translation>
    </message>
    <message>
        <source>Wall: {name}</source>
        <translation>Wall: {name}</translation>
    </message>
    <message>
        <source>No video wall to send to: the engine knows no wall yet.</source>
        <translation>No video wall to send to: the engine knows no wall yet.</translation>
    </message>
    <message>
        <source>Give the preset a name first.</source>
        <translation>Give the preset a name first.</translation>
    </message>
    <message>
        <source>Preset “{name}” saved.</source>
        <translation>Preset “{name}” saved.</translation>
    </message>
    <message>
        <source>Video walls</source>
        <translation>Video walls</translation>
    </message>
    <message>
        <source>No video wall yet. A wall appears here once a console has given it a layout.</source>
        <translation>No video wall yet. A wall appears here once a console has given it a layout.</translation>
    </message>
    <message>
        <source>Grid:</source>
        <translation>Grid:</translation>
    </message>
    <message numerus="yes">
        <source>%n tile(s)</source>
        <translation>
            <numerusform>%n tile</numerusform>
            <numerusform>%n tiles</numerusform>
        </translation>
    </message>
    <message>
        <source>Send incident to wall</source>
        <translation>Send incident to wall</translation>
    </message>
    <message>
        <source>The incident&apos;s cameras and the map on the selected wall</source>
        <translation>The incident&apos;s cameras and the map on the selected wall</translation>
    </message>
    <message>
        <source>Release</source>
        <translation>Release</translation>
    </message>
    <message>
        <source>Back to the layout the wall showed before</source>
        <translation>Back to the layout the wall showed before</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Apply</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>Preset name</source>
        <translation>Preset name</translation>
    </message>
    <message>
        <source>Save layout</source>
        <translation>Save layout</translation>
    </message>
    <message>
        <source>Drawn area to:</source>
        <translation>Drawn area to:</translation>
    </message>
    <message>
        <source>Where the cameras of an area drawn on the map go: this console&apos;s video wall or a wall</source>
        <translation>Where the cameras of an area drawn on the map go: this console&apos;s video wall or a wall</translation>
    </message>
</context>
<context>
    <name>WallMapCell</name>
    <message>
        <source>Map loading…</source>
        <translation>Map loading…</translation>
    </message>
</context>
<context>
    <name>WallPanel</name>
    <message>
        <source>{name}: no media access from the engine</source>
        <translation>{name}: no media access from the engine</translation>
    </message>
    <message>
        <source>Layout:</source>
        <translation>Layout:</translation>
    </message>
    <message>
        <source>Drag cameras onto tiles · double-click to maximise · Esc to restore</source>
        <translation>Drag cameras onto tiles · double-click to maximise · Esc to restore</translation>
    </message>
    <message>
        <source>Clear wall</source>
        <translation>Clear wall</translation>
    </message>
    <message numerus="yes">
        <source>%n tile(s)</source>
        <translation>
            <numerusform>%n tile</numerusform>
            <numerusform>%n tiles</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>WallWindow</name>
    <message>
        <source>No camera</source>
        <translation>No camera</translation>
    </message>
    <message>
        <source>INCIDENT</source>
        <translation>INCIDENT</translation>
    </message>
    <message>
        <source>Connecting to the engine…</source>
        <translation>Connecting to the engine…</translation>
    </message>
    <message>
        <source>Engine unreachable, retrying…</source>
        <translation>Engine unreachable, retrying…</translation>
    </message>
    <message>
        <source>Session expired, logging in again…</source>
        <translation>Session expired, logging in again…</translation>
    </message>
    <message>
        <source>The engine refused the wall key; retrying</source>
        <translation>The engine refused the wall key; retrying</translation>
    </message>
    <message>
        <source>No wall key configured (walls add, then --key-file)</source>
        <translation>No wall key configured (walls add, then --key-file)</translation>
    </message>
    <message>
        <source>Waiting for a layout for wall {id}.
Send cameras or an incident to this wall from an operator console.</source>
        <translation>Waiting for a layout for wall {id}.
Send cameras or an incident to this wall from an operator console.</translation>
    </message>
    <message>
        <source>Wall {id}: connecting to the engine…</source>
        <translation>Wall {id}: connecting to the engine…</translation>
    </message>
</context>
<context>
    <name>_MiniCell</name>
    <message>
        <source>Remove from the wall</source>
        <translation>Remove from the wall</translation>
    </message>
</context>
<context>
    <name>_WallCard</name>
    <message>
        <source>Map</source>
        <translation>Map</translation>
    </message>
    <message>
        <source>The map of the incident</source>
        <translation>The map of the incident</translation>
    </message>
    <message>
        <source>Drop a camera here</source>
        <translation>Drop a camera here</translation>
    </message>
</context>
<context>
    <name>panel</name>
    <message>
        <source>Could not write {path}: {error}</source>
        <translation>Could not write {path}: {error}</translation>
    </message>
    <message>
        <source>Select an incident first: the circle is drawn around it.</source>
        <translation>Select an incident first: the circle is drawn around it.</translation>
    </message>
    <message>
        <source>The map is not ready yet: search again in a moment.</source>
        <translation>The map is not ready yet: search again in a moment.</translation>
    </message>
</context>
</TS>
