{{/* Names and labels shared by every template. */}}

{{- define "aire.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-aire, or the release name alone when it already says aire. */}}
{{- define "aire.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aire.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "aire.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component (api, worker, migrations): stable across upgrades. */}}
{{- define "aire.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aire.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "aire.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The env of the API and the workers: the ConfigMap, then the secrets they may hold. */}}
{{- define "aire.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.database.existingSecret: name the Secret with the database URLs" .Values.secrets.database.existingSecret }}
      key: {{ .Values.secrets.database.appUrlKey }}
{{- with .Values.secrets.payloadKeys }}
{{- if .existingSecret }}
- name: AIRE_PAYLOAD_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- with .Values.secrets.webhookSecret }}
{{- if .existingSecret }}
- name: AIRE_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- range .Values.secrets.extraEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- end -}}

{{/* Pod spec fields shared by every AIRE pod. */}}
{{- define "aire.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* Node has a writable /tmp; the root filesystem is read-only. */}}
{{- define "aire.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/* A duration as AIRE reads it (500ms, 45s, 2m, 1h: src/domain/duration.ts) in whole seconds, for Kubernetes fields. */}}
{{- define "aire.seconds" -}}
{{- $d := toString . -}}
{{- if regexMatch "^[0-9]+ms$" $d -}}{{ div (atoi (trimSuffix "ms" $d)) 1000 }}
{{- else if regexMatch "^[0-9]+s$" $d -}}{{ trimSuffix "s" $d }}
{{- else if regexMatch "^[0-9]+m$" $d -}}{{ mul (atoi (trimSuffix "m" $d)) 60 }}
{{- else if regexMatch "^[0-9]+h$" $d -}}{{ mul (atoi (trimSuffix "h" $d)) 3600 }}
{{- else -}}{{ fail (printf "worker.shutdownGrace: write a duration like 30s or 2m, not %q" $d) }}
{{- end -}}
{{- end -}}

{{/* Egress every AIRE pod needs: the cluster DNS and PostgreSQL. */}}
{{- define "aire.egressBase" -}}
- to:
    {{- toYaml .Values.networkPolicy.dns.peers | nindent 4 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
- to:
    {{- toYaml .Values.networkPolicy.postgres.peers | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ .Values.networkPolicy.postgres.port }}
{{- end -}}

{{- define "aire.egressTemporal" -}}
- to:
    {{- toYaml .Values.networkPolicy.temporal.peers | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ .Values.networkPolicy.temporal.port }}
{{- end -}}
